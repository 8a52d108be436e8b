-- GET BENCH_PREFIX .. SID, rotating over the SIDs of the file BENCH_SIDS (one a line), each thread from its
-- own slice: a fetch by SID of any resource (BENCH_PREFIX=/v1/Conversations/).
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")

local prefix, sids, n, i

function init(args)
   prefix = os.getenv("BENCH_PREFIX") or "/v1/Users/"
   sids = load_lines(os.getenv("BENCH_SIDS"))
   n = #sids
   i = start_offset(n)
end

function request()
   i = i + 1
   return wrk.format("GET", prefix .. sids[(i % n) + 1])
end
