-- GET /v1/Users/{sid}, rotating over the seeded SIDs (BENCH_SIDS: a file, one SID a line).
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")

local sids, n, i

function init(args)
   sids = load_lines(os.getenv("BENCH_SIDS"))
   n = #sids
   i = start_offset(n)
end

function request()
   i = i + 1
   return wrk.format("GET", "/v1/Users/" .. sids[(i % n) + 1])
end
