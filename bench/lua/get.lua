-- One fixed GET, BENCH_PATH (a list page, a deep PageToken page, or the ceiling's request).
-- No request() function: wrk builds the request once and reuses it (cheapest for the client).
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")

wrk.method = "GET"
wrk.path = os.getenv("BENCH_PATH") or "/"
