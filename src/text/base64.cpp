#include "text/base64.hpp"

#include <openssl/evp.h>

namespace flamecpp::detail {

std::string base64_encode(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

bool base64_decode(std::string_view text, std::string& out) {
    if (text.empty() || text.size() % 4 != 0) {
        return false;
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '+' || c == '/' ||
                        (c == '=' && i >= text.size() - 2);
        if (!ok) {
            return false;  // EVP_DecodeBlock would skip white space
        }
    }
    if (text[text.size() - 2] == '=' && text.back() != '=') {
        return false;
    }
    out.resize(text.size() / 4 * 3);
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) {
        return false;
    }
    // EVP_DecodeBlock counts the padding as zero bytes.
    auto size = static_cast<std::size_t>(n);
    size -= text.ends_with("==") ? 2 : text.ends_with('=') ? 1 : 0;
    out.resize(size);
    return true;
}

}  // namespace flamecpp::detail
