"""One web node exactly as deploy/Procfile starts it (granian): what nginx's kept-alive upstream
connections and a reload (`systemctl reload`, SIGHUP) need from it."""

import http.client
import signal
import threading

import requests

from .procs import wait_for, wait_http

CONNECTIONS = 64  # nginx's `keepalive 64` (deploy/nginx/liveroom.conf), far more than the node's threads


def start(procs, node_env):
    redis_server = procs.redis()
    node = procs.web("web", node_env(f"redis://127.0.0.1:{redis_server.port}/0"))
    wait_http(node)
    return node


def test_every_kept_alive_connection_is_answered(procs, node_env):
    node = start(procs, node_env)
    connections = [http.client.HTTPConnection("127.0.0.1", node.port, timeout=10) for _ in range(CONNECTIONS)]
    for _ in range(2):  # the second time on the same connections, kept alive
        for connection in connections:
            connection.request("GET", "/healthz")
        for connection in connections:
            response = connection.getresponse()
            assert response.status == 200
            response.read()
            assert not response.will_close
    for connection in connections:
        connection.close()


def test_a_reload_replaces_the_workers_and_answers_throughout(procs, node_env):
    node = start(procs, node_env)
    statuses, running = [], threading.Event()
    running.set()

    def ask():
        with requests.Session() as http:
            while running.is_set():
                statuses.append(http.get(f"{node.url}/healthz", timeout=10).status_code)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    wait_for(lambda: len(statuses) > 20, "requests before the reload", node)
    before = len(statuses)
    node.popen.send_signal(signal.SIGHUP)  # bash exec'd granian: this is its main process
    wait_for(lambda: node.log.read_text().count("Stopped old worker") == 2, "both workers replaced", node, 60)
    wait_for(lambda: len(statuses) > before + 20, "requests after the reload", node)
    running.clear()
    for thread in threads:
        thread.join(15)
    assert set(statuses) == {200}
