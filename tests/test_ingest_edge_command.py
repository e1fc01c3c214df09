"""The ingest edge launcher: what it renders and what it says when nginx-rtmp is missing.
Running it for real is tests/browser/test_real_stream.py."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from livecloud import edge


def test_check_names_the_packages_to_install_when_the_rtmp_module_is_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(edge, "RTMP_MODULE", tmp_path / "ngx_rtmp_module.so")
    with pytest.raises(CommandError, match="apt-get install nginx libnginx-mod-rtmp"):
        call_command("ingest_edge", "--check")


def test_config_listens_on_the_issued_domains_ports_on_loopback_only(settings, tmp_path):
    settings.TENCENT_LIVE_PUSH_DOMAIN = "127.0.0.1:11935"
    settings.TENCENT_LIVE_PLAY_DOMAIN = "127.0.0.1:18080"
    settings.TENCENT_LIVE_ENDPOINT = "http://127.0.0.1:18100"
    config = edge.from_settings()
    assert config.runtime_dir == Path(settings.BASE_DIR) / ".edge" / "11935"
    conf = edge.render(edge.from_settings(tmp_path))
    listens = [line.split()[1] for line in conf.splitlines() if line.strip().startswith("listen ")]
    assert listens == ["127.0.0.1:11935;", "127.0.0.1:18080;"]
    assert (
        "on_publish http://127.0.0.1:18100/sim/hooks/on_publish?control=http%3A%2F%2F127.0.0.1%3A18080%2Fcontrol;"
        in conf
    )
    assert f"hls_path {tmp_path}/hls/live;" in conf and "/etc/nginx" not in conf
