// Bytes in where a TLS server expects a ClientHello: the first-byte triage (TLS, plain HTTP,
// garbage), OpenSSL's handshake through our BIO, and the closes that follow, in the real
// HTTP session. Seeds are real ClientHellos (TLS 1.2 and 1.3, with SNI and ALPN) that the
// fuzzer truncates and mutates. The session must end once the client is gone, whatever came.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_app.hpp"
#include "session_harness.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz: %s\n", what);
    std::abort();
}

/// A self-signed P-256 certificate for localhost, written to temporary PEM files.
flamecpp::TlsCertificate make_certificate() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    if (key == nullptr || cert == nullptr) {
        fail("cannot make a key");
    }
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400L * 30);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_set_pubkey(cert, key);
    if (X509_sign(cert, key, EVP_sha256()) == 0) {
        fail("cannot sign the certificate");
    }
    std::string dir = "/tmp/flamecpp-fuzz-tls-" + std::to_string(::getpid());
    ::mkdir(dir.c_str(), 0700);
    flamecpp::TlsCertificate out{dir + "/cert.pem", dir + "/key.pem"};
    std::FILE* f = std::fopen(out.cert_file.c_str(), "w");
    std::FILE* k = std::fopen(out.key_file.c_str(), "w");
    if (f == nullptr || k == nullptr || PEM_write_X509(f, cert) != 1 ||
        PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        fail("cannot write the certificate");
    }
    std::fclose(f);
    std::fclose(k);
    X509_free(cert);
    EVP_PKEY_free(key);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static flamecpp::fuzz::SessionHarness* const harness = [] {
        auto* h = new flamecpp::fuzz::SessionHarness(flamecpp::fuzz::fuzz_app());
        const auto cert = make_certificate();
        h->use_tls(cert);  // loaded now: the files can go
        std::remove(cert.cert_file.c_str());
        std::remove(cert.key_file.c_str());
        return h;
    }();
    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::string out = harness->exchange(input);
    // Plain HTTP gets a plain 400, and nothing else; TLS input gets TLS records back.
    if (!out.empty() && out.front() == 'H' && out.rfind("HTTP/1.1 400 Bad Request\r\n", 0) != 0) {
        fail("a plain answer that is not the 400");
    }
    return 0;
}
