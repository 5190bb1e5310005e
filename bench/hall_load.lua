-- wrk driver for the hiring-hall benchmark (bench/hall_out_of_work.py), as a dispatcher's client: every
-- request carries the staff token in Authorization.
-- wrk arguments after "--": the mode, then
--   read <path>                       GET the path (a page of the out-of-work list) on every request;
--   register <books file> <members file>
--                                     POST /api/v1/hall/books/<book>/registrations {"member_id": "<member>"}:
--                                     request n takes the n-th member of the file (each member once, while
--                                     there are more members than requests) and book n modulo the books.
-- Environment: HALL_TOKEN, the bearer token; WRK_THREADS, wrk's -t (request numbers are interleaved by thread).
-- done() prints one line: RESULT rps=… p50_ms=… p99_ms=… non2xx=… errors=… requests=… seconds=… created=…
-- conflicts=… other=…
-- (created: 201s, conflicts: 409s, other: any other status).

local mode, fixed_request
local books, members = {}, {}
local threads, sent = 2, 0
local thread_count = 0
local all_threads = {}

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
  table.insert(all_threads, thread)
end

local function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    if line ~= "" then table.insert(lines, line) end
  end
  return lines
end

function init(args)
  mode = args[1]
  threads = tonumber(os.getenv("WRK_THREADS") or "2")
  created, conflicts, other = 0, 0, 0
  wrk.headers["Authorization"] = "Bearer " .. (os.getenv("HALL_TOKEN") or "")
  if mode == "read" then
    fixed_request = wrk.format("GET", args[2])
  elseif mode == "register" then
    books = read_lines(args[2])
    members = read_lines(args[3])
    wrk.headers["Content-Type"] = "application/json"
  else
    error("mode must be read or register, not " .. tostring(mode))
  end
end

function request()
  if fixed_request then return fixed_request end
  -- Thread t sends requests t+1, t+1+threads, …: no two requests share a member.
  local n = thread_index + 1 + sent * threads
  sent = sent + 1
  local member = members[(n - 1) % #members + 1]
  local book = books[(n - 1) % #books + 1]
  return wrk.format("POST", "/api/v1/hall/books/" .. book .. "/registrations", nil,
    '{"member_id":"' .. member .. '"}')
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  elseif status == 409 then
    conflicts = conflicts + 1
  elseif status ~= 200 then
    other = other + 1
  end
end

function done(summary, latency, requests)
  local totals = { created = 0, conflicts = 0, other = 0 }
  for _, thread in ipairs(all_threads) do
    for name, _ in pairs(totals) do totals[name] = totals[name] + (thread:get(name) or 0) end
  end
  local errors = summary.errors
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d errors=%d requests=%d seconds=%.3f created=%d"
      .. " conflicts=%d other=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout, summary.requests,
    summary.duration / 1e6, totals.created, totals.conflicts, totals.other))
end
