// Internal to the kube module: one TLS connection to the API server, pooled by KubeClient for
// requests and owned by a single Watch for streams.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "kube/kube_client.hpp"

namespace sonde::kube {

struct KubeClient::Connection {
  Connection(const boost::asio::any_io_executor& executor, boost::asio::ssl::context& tls)
      : stream(executor, tls) {}
  boost::beast::ssl_stream<boost::beast::tcp_stream> stream;
  boost::beast::flat_buffer buffer;  // bytes read past the last message
};

}  // namespace sonde::kube
