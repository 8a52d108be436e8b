-- POST /v1/Conversations FriendlyName=<distinct>: a conversation with its default timers and state.
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")

wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

local t, i = 0, 0

function init(args)
   t = tid or 0
end

function request()
   i = i + 1
   return wrk.format("POST", "/v1/Conversations", nil, "FriendlyName=bench+" .. t .. "-" .. i)
end
