#include "gzip.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

namespace flamecpp::test {

std::string gunzip(const std::string& data) {
    z_stream z{};
    EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    std::string out;
    int rc = Z_OK;
    while (rc == Z_OK) {
        char buffer[16384];
        z.next_out = reinterpret_cast<Bytef*>(buffer);
        z.avail_out = sizeof buffer;
        rc = inflate(&z, Z_NO_FLUSH);
        out.append(buffer, sizeof buffer - z.avail_out);
        if (rc == Z_BUF_ERROR && z.avail_in == 0) {
            break;
        }
    }
    EXPECT_EQ(rc, Z_STREAM_END) << "not a whole gzip member";
    EXPECT_EQ(z.avail_in, 0u) << "bytes after the gzip member";
    inflateEnd(&z);
    return out;
}

}  // namespace flamecpp::test
