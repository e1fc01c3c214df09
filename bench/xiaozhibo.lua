-- wrk script: one Xiaozhibo request per request, its JSON body from BENCH_BODY, as the app posts it.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json; charset=utf-8"
