// The tls probe: connects to host:port and completes a TLS handshake (with SNI), verifying the
// chain and the name unless told not to, and records the leaf certificate's notAfter.
// Placeholders: [CONNECTED] (the handshake succeeded), [CERTIFICATE_EXPIRATION],
// [RESPONSE_TIME], [IP].
//
// A failed verification is an error that says why, from OpenSSL's verify result, e.g.
// "tls://127.0.0.1:8443: TLS handshake: certificate verify failed: self-signed certificate".
// With verification off an expired or self-signed certificate still connects, and the
// conditions judge its expiry (what ssl-expiry with INSECURE=true needs).
//
// Thread safety: immutable; Run() may be called concurrently from coroutines on one executor
// (the TLS context is shared and OpenSSL contexts are safe to share once configured).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "config/yaml_reader.hpp"
#include "core/result.hpp"
#include "probe/net.hpp"
#include "probe/probe.hpp"

namespace sonde {

struct TlsProbeConfig {
  std::string host;
  uint16_t port = 443;
  TlsOptions tls;  // server_name: SNI and the verified name; empty: `host`
  IpFamily family = IpFamily::kAny;
  TlsContext tls_context;  // prebuilt for `tls` (see TlsContextCache); null: built from `tls`
};

// Reads the TLS options insecureSkipVerify, caFile, certFile, keyFile and serverName from `m`
// (files relative to the check file's directory); the http probe's `tls:` and the tls probe
// share them. Other keys are the caller's to check.
void ReadTlsOptions(const config_internal::MapView& m, TlsOptions& out);

// Loads the TLS files now; errors name the file, e.g. "cannot load CA file /x/ca.pem".
Result<std::shared_ptr<const Probe>> MakeTlsProbe(TlsProbeConfig config);

// Sets SNI (unless `name` is an IP address) and, when `verify`, has OpenSSL check that the
// certificate is for `name` (a DNS name or an IP address), so that a mismatch reads
// "hostname mismatch" / "IP address mismatch". Shared with the http probe's https requests.
void ConfigureTlsPeerName(SSL* ssl, const std::string& name, bool verify);

// "TLS handshake: certificate verify failed: certificate has expired" when OpenSSL's verify
// result explains the failure; otherwise "TLS handshake: " + DescribeNetError(...).
std::string DescribeHandshakeError(SSL* ssl, const boost::system::error_code& ec, Duration timeout);

}  // namespace sonde
