-- wrk driver for the sign benchmark (bench/api_sign.py). Each request signs its own contract, tok-<n>,
-- and comes from its own parent: X-Forwarded-For carries a distinct address, as a proxy in front of the
-- API would write it (the API trusts 127.0.0.1 as that proxy), so the production rate limit applies per
-- parent exactly as deployed.
-- wrk arguments after "--": the URL path with %d for the contract number (default below).
-- Environment: SIG_B64, the base64 PNG every parent draws; FIRST_CONTRACT, the number before the first
-- contract signed (0: tok-1 first; the warm-up signs from the top of the range, the measured run from 1).

local path_format = "/api/v1/contracts/tok-%d/sign"
local threads, sent, first = 2, 0, 0
local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  if args[1] then path_format = args[1] end
  threads = tonumber(os.getenv("WRK_THREADS") or "2")
  first = tonumber(os.getenv("FIRST_CONTRACT") or "0")
  wrk.body = string.format(
    '{"signed_by":"Bench Parent","contract_version":"2026-1","accept_terms":true,"signature_png":"%s"}',
    os.getenv("SIG_B64") or "")
end

function request()
  -- Thread t sends contracts first+t+1, first+t+1+threads, ...: no two requests share a contract.
  local n = first + thread_index + 1 + sent * threads
  sent = sent + 1
  -- wrk.format takes these headers instead of wrk.headers, so the content type goes here too.
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256),
  }
  return wrk.format("POST", string.format(path_format, n), headers, wrk.body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
