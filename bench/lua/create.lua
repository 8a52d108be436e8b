-- POST /v1/Users Identity=<distinct>: BENCH_RUN (unique per bench run) .. thread id .. counter,
-- so no two requests of any run collide (a collision would be a 409 and show as non-2xx).
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")

wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

local run, t, i = "", 0, 0

function init(args)
   run = os.getenv("BENCH_RUN") or tostring(os.time())
   t = tid or 0
end

function request()
   i = i + 1
   return wrk.format("POST", "/v1/Users", nil,
                     "Identity=new-" .. run .. "-" .. t .. "-" .. i .. "&FriendlyName=created+by+bench")
end
