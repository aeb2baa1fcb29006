// TLS from the TestClient's side (ClientOptions::tls): HTTPS and WSS to an app with a test CA,
// the scheme the app sees, big bodies both ways through the TLS write path, a client that does
// not trust the certificate, and Server::reload_tls(). The samples over TLS, with Python's
// ssl, openssl s_client and testssl.sh, are in test/tls/tls_test.py (label tls).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <flamecpp/flamecpp.hpp>
#include <flamecpp/testing.hpp>

#include "quiet_options.hpp"

namespace {

namespace fs = std::filesystem;
using flamecpp::testing::ClientOptions;
using flamecpp::testing::TestClient;

struct KeyDelete {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct CertDelete {
    void operator()(X509* c) const noexcept { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyDelete>;
using Cert = std::unique_ptr<X509, CertDelete>;

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    ASSERT_NE(ext, nullptr);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

/// A certificate for `cn` with `key`, signed by `issuer_key` (self-signed without `issuer`).
/// A server certificate holds `names` (subjectAltName syntax).
Cert make_cert(const char* cn,
               EVP_PKEY* key,
               X509* issuer,
               EVP_PKEY* issuer_key,
               bool ca,
               const char* names = "DNS:localhost,IP:127.0.0.1") {
    Cert cert(X509_new());
    X509_set_version(cert.get(), 2);
    static long serial = 1;
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * 30);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
    X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer)
                                                       : X509_get_subject_name(cert.get()));
    X509_set_pubkey(cert.get(), key);
    X509* signer = issuer != nullptr ? issuer : cert.get();
    if (ca) {
        add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
        add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_extension(cert.get(), signer, NID_subject_alt_name, names);
        add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    }
    X509_sign(cert.get(), issuer_key, EVP_sha256());
    return cert;
}

void write_pem(const fs::path& path, X509* cert, X509* chain = nullptr) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    PEM_write_X509(f, cert);
    if (chain != nullptr) {
        PEM_write_X509(f, chain);
    }
    std::fclose(f);
}

void write_key(const fs::path& path, EVP_PKEY* key) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
}

/// A root CA, an intermediate, and a server certificate for localhost whose file holds the
/// chain; and a second, unrelated CA.
class TlsFiles {
public:
    TlsFiles() : dir_(fs::temp_directory_path() / ("flamecpp-tls-" + std::to_string(::getpid()))) {
        fs::create_directories(dir_);
        Key root_key(EVP_EC_gen("P-256"));
        Key mid_key(EVP_EC_gen("P-256"));
        Key leaf_key(EVP_EC_gen("P-256"));
        Key other_key(EVP_EC_gen("P-256"));
        Cert root = make_cert("test root", root_key.get(), nullptr, root_key.get(), true);
        Cert mid = make_cert("test intermediate", mid_key.get(), root.get(), root_key.get(), true);
        Cert leaf = make_cert("localhost", leaf_key.get(), mid.get(), mid_key.get(), false);
        Cert other = make_cert("other root", other_key.get(), nullptr, other_key.get(), true);
        Key named_key(EVP_EC_gen("P-256"));
        Cert named = make_cert("other.test", named_key.get(), mid.get(), mid_key.get(), false,
                               "DNS:other.test");
        write_pem(dir_ / "other-server.pem", named.get(), mid.get());
        write_key(dir_ / "other-server.key", named_key.get());
        write_pem(ca(), root.get());
        write_pem(other_ca(), other.get());
        write_pem(cert(), leaf.get(), mid.get());
        write_key(key(), leaf_key.get());
        write_key(dir_ / "wrong.key", other_key.get());
    }
    ~TlsFiles() {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }
    fs::path ca() const { return dir_ / "ca.pem"; }
    fs::path other_ca() const { return dir_ / "other.pem"; }
    fs::path cert() const { return dir_ / "server.pem"; }
    fs::path key() const { return dir_ / "server.key"; }
    fs::path wrong_key() const { return dir_ / "wrong.key"; }
    /// A server certificate for other.test (SNI).
    flamecpp::TlsCertificate other_server() const {
        return {(dir_ / "other-server.pem").string(), (dir_ / "other-server.key").string()};
    }

    ClientOptions options() const {
        ClientOptions o;
        o.tls.certificate = {cert().string(), key().string()};
        o.tls.ca_file = ca().string();
        return o;
    }

private:
    fs::path dir_;
};

const TlsFiles& files() {
    static const TlsFiles f;
    return f;
}

flamecpp::App make_app() {
    flamecpp::App app;
    app.route(
        "/scheme",
        [](flamecpp::Request& request) {
            return std::string(request.scheme()) + " " + request.url_for("scheme");
        },
        {flamecpp::Method::get}, "scheme");
    app.route("/big", [] { return std::string(std::size_t{3} << 20, 'x'); });
    app.route("/count",
              [](flamecpp::Request& request) { return std::to_string(request.body().size()); },
              {flamecpp::Method::post}, "", {.max_body_bytes = std::size_t{8} << 20});
    app.route("/away", [] { return flamecpp::Response::redirect("/scheme"); });
    app.websocket_route("/echo", [](flamecpp::WebSocket& ws) -> flamecpp::Task<void> {
        co_await ws.accept();
        for (;;) {
            auto message = co_await ws.receive_text();
            co_await ws.send_text(message);
        }
    });
    return app;
}

TEST(Tls, TestClientSpeaksHttpsAndTheAppSeesTheScheme) {
    TestClient client(make_app(), files().options());
    auto r = client.get("/scheme");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "https https://testserver/scheme");
    // Kept alive: many requests over one TLS connection.
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(client.get("/scheme").status, 200);
    }
}

TEST(Tls, BigBodiesBothWays) {
    TestClient client(make_app(), files().options());
    auto big = client.get("/big");
    EXPECT_EQ(big.status, 200);
    EXPECT_EQ(big.body.size(), std::size_t{3} << 20);
    EXPECT_EQ(big.body.find_first_not_of('x'), std::string::npos);
    flamecpp::testing::RequestOptions upload;
    upload.body = std::string(std::size_t{5} << 20, 'y');
    auto counted = client.post("/count", upload);
    EXPECT_EQ(counted.status, 200);
    EXPECT_EQ(counted.body, std::to_string(std::size_t{5} << 20));
}

TEST(Tls, RedirectsAreFollowedOverHttps) {
    auto options = files().options();
    options.follow_redirects = true;
    TestClient client(make_app(), options);
    auto r = client.get("/away");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "https https://testserver/scheme");
}

TEST(Tls, WebSocketsOverWss) {
    TestClient client(make_app(), files().options());
    auto ws = client.websocket_connect("/echo");
    for (std::size_t size :
         {std::size_t{1}, std::size_t{200}, std::size_t{70000}, std::size_t{400000}}) {
        std::string message(size, 'm');
        ws.send_text(message);
        EXPECT_EQ(ws.receive_text(), message);
    }
    EXPECT_EQ(ws.close(1000), 1000);
}

TEST(Tls, AClientThatDoesNotTrustTheCertificateFails) {
    auto options = files().options();
    options.tls.ca_file = files().other_ca().string();
    TestClient client(make_app(), options);
    try {
        client.get("/scheme");
        FAIL() << "the handshake should have failed";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("TLS handshake failed"), std::string::npos)
            << e.what();
    }
    options.tls.ca_file = files().ca().string();
    options.tls.server_name = "example.com";  // not a name of the certificate
    TestClient wrong_name(make_app(), options);
    EXPECT_THROW(wrong_name.get("/scheme"), std::runtime_error);
}

TEST(Tls, ReloadTakesNewFilesAndKeepsTheOldOnesWhenTheyDoNotLoad) {
    flamecpp::App app = make_app();
    fs::path dir = fs::temp_directory_path() / ("flamecpp-reload-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    fs::copy_file(files().cert(), dir / "cert.pem", fs::copy_options::overwrite_existing);
    fs::copy_file(files().key(), dir / "key.pem", fs::copy_options::overwrite_existing);
    flamecpp::ServerOptions options = flamecpp::test::quiet_options(2);
    options.tls.certificate = {(dir / "cert.pem").string(), (dir / "key.pem").string()};
    flamecpp::Server server(app, options);
    EXPECT_NO_THROW(server.reload_tls());
    fs::copy_file(files().wrong_key(), dir / "key.pem", fs::copy_options::overwrite_existing);
    try {
        server.reload_tls();
        FAIL() << "a key of another certificate must not load";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("does not match"), std::string::npos) << e.what();
    }
    server.stop();
    server.wait();
    fs::remove_all(dir);

    flamecpp::ServerOptions plain = options;
    plain.tls = {};
    flamecpp::Server plain_server(app, plain);
    EXPECT_THROW(plain_server.reload_tls(), std::logic_error);
}

/// The common name of the certificate a server on `port` presents to a client that asks
/// for `name` (none: no SNI), with OpenSSL's client on a blocking socket.
std::string presented_name(std::uint16_t port, const char* name) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return "(no connection)";
    }
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (name != nullptr) {
        SSL_set_tlsext_host_name(ssl, name);
    }
    std::string out = "(no handshake)";
    if (SSL_connect(ssl) == 1) {
        X509* cert = SSL_get1_peer_certificate(ssl);
        char cn[256] = {};
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
        out = cn;
        X509_free(cert);
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ::close(fd);
    return out;
}

TEST(Tls, SniGivesEachNameItsCertificate) {
    flamecpp::App app = make_app();
    flamecpp::ServerOptions options = flamecpp::test::quiet_options(1);
    options.tls.certificate = {files().cert().string(), files().key().string()};
    options.tls.sni = {files().other_server()};
    flamecpp::Server server(app, options);
    EXPECT_EQ(presented_name(server.port(), "other.test"), "other.test");
    EXPECT_EQ(presented_name(server.port(), "localhost"), "localhost");
    EXPECT_EQ(presented_name(server.port(), "unknown.test"), "localhost");  // the first one
    EXPECT_EQ(presented_name(server.port(), nullptr), "localhost");
    server.stop();
    server.wait();
}

TEST(Tls, FilesThatDoNotLoadAreAConfigurationError) {
    flamecpp::App app = make_app();
    flamecpp::ServerOptions options = flamecpp::test::quiet_options(1);
    options.tls.certificate = {files().cert().string(), files().wrong_key().string()};
    EXPECT_THROW(flamecpp::Server(app, options), flamecpp::ConfigurationError);
    options.tls.certificate = {"", files().key().string()};  // a key alone is not plain HTTP
    EXPECT_THROW(flamecpp::Server(app, options), flamecpp::ConfigurationError);
    options.tls.certificate = {"/nonexistent/cert.pem", files().key().string()};
    try {
        flamecpp::Server server(app, options);
        FAIL();
    } catch (const flamecpp::ConfigurationError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/cert.pem"), std::string::npos);
    }
}

}  // namespace
