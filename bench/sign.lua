-- wrk script: every request signs a distinct token tok-<k> (so no request meets an already signed contract).
-- args: offset stride path_format, e.g.  -- 0 2 /api/v1/contracts/tok-%d/sign
-- env SIG_B64: the base64 PNG sent as the signature.
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
local offset, stride, fmt, n = 0, 1, "/api/v1/contracts/tok-%d/sign", 0
function init(args)
  offset = tonumber(args[1] or "0") + tid
  stride = tonumber(args[2] or "1")
  fmt = args[3] or fmt
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"signed_by":"Bench Parent","contract_version":"2026-1","accept_terms":true,"signature_png":"'
    .. (os.getenv("SIG_B64") or "") .. '"}'
end
function request()
  local k = offset + n * stride + 1
  n = n + 1
  return wrk.format(nil, string.format(fmt, k))
end
function done(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
