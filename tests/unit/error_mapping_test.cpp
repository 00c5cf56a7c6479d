#include "session/error_mapping.hpp"

#include <gtest/gtest.h>

#include <cerrno>

#include "tether/agent/service.hpp"
#include "tether/common/asio.hpp"
#include "tether/wire/error.hpp"

namespace tether::agent {
namespace {

template <class E>
v1::Status status_of(E e, v1::ErrorCode cancel_reason = v1::ERROR_CODE_OK) {
  return status_for(std::make_exception_ptr(std::move(e)), cancel_reason);
}

TEST(ErrorMapping, GivesAnErrnoTheSameCodeWhetherItCameFromStdOrBoost) {
  for (int err : {ENOENT, EACCES, EEXIST, ENOSPC, EINVAL, EBUSY, EIO}) {
    const auto expected = error_code_from_errno(err);
    EXPECT_EQ(status_of(std::system_error(err, std::generic_category())).code(), expected) << err;
    EXPECT_EQ(status_of(std::system_error(err, std::system_category())).code(), expected) << err;
    EXPECT_EQ(status_of(boost::system::system_error(err, boost::system::generic_category())).code(), expected)
        << err;
    EXPECT_EQ(status_of(boost::system::system_error(err, boost::system::system_category())).code(), expected)
        << err;
  }
  // Asio's own names for errno values.
  EXPECT_EQ(status_of(boost::system::system_error(asio::error::access_denied)).code(),
            v1::ERROR_CODE_PERMISSION_DENIED);
  EXPECT_EQ(status_of(boost::system::system_error(asio::error::no_such_device)).code(), v1::ERROR_CODE_IO_ERROR);
}

// Found by agent_session_fuzz: a message quoting a host's bytes made the
// host reject the whole frame (Status.message is a protobuf string).
TEST(ErrorMapping, MakesAMessageQuotingInvalidUtf8Valid) {
  const auto st = status_of(call_error(v1::ERROR_CODE_NOT_FOUND, "no such file 'a\xff\xc3'"));
  EXPECT_EQ(st.message(), "no such file 'a\xEF\xBF\xBD\xEF\xBF\xBD'");
  v1::Status parsed;
  EXPECT_TRUE(parsed.ParseFromString(st.SerializeAsString()));
}

TEST(ErrorMapping, GivesACallErrorItsOwnCodeAndMessage) {
  const auto st = status_of(call_error(v1::ERROR_CODE_NOT_FOUND, "no such user"));
  EXPECT_EQ(st.code(), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(st.message(), "no such user");
}

TEST(ErrorMapping, ReportsAnAbortedOperationAsTheCallsCancelReason) {
  const boost::system::system_error aborted(asio::error::operation_aborted);
  EXPECT_EQ(status_of(aborted).code(), v1::ERROR_CODE_CANCELLED);
  EXPECT_EQ(status_of(aborted).message(), "call cancelled");
  EXPECT_EQ(status_of(aborted, v1::ERROR_CODE_DEADLINE_EXCEEDED).code(), v1::ERROR_CODE_DEADLINE_EXCEEDED);
  EXPECT_EQ(status_of(aborted, v1::ERROR_CODE_DEADLINE_EXCEEDED).message(), "call exceeded its deadline");
  EXPECT_EQ(status_of(aborted, v1::ERROR_CODE_PROTOCOL_ERROR).code(), v1::ERROR_CODE_PROTOCOL_ERROR);
}

TEST(ErrorMapping, MapsFramingAndPeerErrorsByTheirCategory) {
  EXPECT_EQ(error_code_for(wire::make_error_code(wire::codec_error::frame_too_large)),
            v1::ERROR_CODE_FRAME_TOO_LARGE);
  EXPECT_EQ(error_code_for(wire::make_error_code(wire::codec_error::malformed_frame)),
            v1::ERROR_CODE_PROTOCOL_ERROR);
  EXPECT_EQ(error_code_for(wire::make_error_code(v1::ERROR_CODE_UNAVAILABLE)), v1::ERROR_CODE_UNAVAILABLE);
  EXPECT_EQ(status_of(std::system_error(wire::make_error_code(wire::codec_error::bad_frame_magic))).code(),
            v1::ERROR_CODE_PROTOCOL_ERROR);
}

TEST(ErrorMapping, CallsOtherBoostErrorsIoErrors) {
  EXPECT_EQ(status_of(boost::system::system_error(asio::error::eof)).code(), v1::ERROR_CODE_IO_ERROR);
  EXPECT_EQ(status_of(boost::system::system_error(asio::error::host_not_found)).code(), v1::ERROR_CODE_IO_ERROR);
}

TEST(ErrorMapping, CallsAnyOtherExceptionInternal) {
  const auto st = status_of(std::runtime_error("bug"));
  EXPECT_EQ(st.code(), v1::ERROR_CODE_INTERNAL);
  EXPECT_EQ(st.message(), "internal error: bug");
  EXPECT_EQ(status_of(42).code(), v1::ERROR_CODE_INTERNAL);
}

}  // namespace
}  // namespace tether::agent
