-- wrk script: revalidate like a polling client: every request names the ETag of the answer
-- fetched just before the run (bench/run.py passes it as BENCH_IF_NONE_MATCH), so the server
-- answers 304. Set once here, the header is part of wrk's prebuilt request: no Lua per request.
wrk.headers["If-None-Match"] = os.getenv("BENCH_IF_NONE_MATCH")
