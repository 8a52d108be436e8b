-- POST /v1/Conversations/{CH}/Participants Identity=<distinct>: a chat participant (and its user, created
-- with the service's default role), across the conversations of the file BENCH_CONVERSATIONS, in turn.
-- BENCH_RUN makes the identities of one run distinct from any other's.
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")

wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

local convs, n, i, t, run

function init(args)
   convs = load_lines(os.getenv("BENCH_CONVERSATIONS"))
   n = #convs
   i = start_offset(n)
   t = tid or 0
   run = os.getenv("BENCH_RUN") or tostring(os.time())
end

function request()
   i = i + 1
   return wrk.format("POST", "/v1/Conversations/" .. convs[(i % n) + 1] .. "/Participants", nil,
                     "Identity=p-" .. run .. "-" .. t .. "-" .. i)
end
