package dvr

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in the api package; anything that
// is not an *Error is internal and reported to clients as ErrInternal.
const (
	EINVALID      = "invalid"      // 400: the request is malformed or fails validation
	EUNAUTHORIZED = "unauthorized" // 401: credentials are missing or wrong
	ENOTFOUND     = "not_found"    // 404: the addressed resource does not exist
	ECONFLICT     = "conflict"     // 409: the request clashes with current state
	ETOOLARGE     = "too_large"    // 413: the body exceeds the route's limit
	EUNAVAILABLE  = "unavailable"  // 503: a dependency (database, tool) is not ready
	EINTERNAL     = "internal"     // 500: a bug or an unexpected failure
)

// Error is an error a user can act on: Code says which kind, Message says
// precisely what was wrong (naming the field where there is one).
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic message that hides internal details.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// IsNotFound reports whether err is (or wraps) an ENOTFOUND *Error.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }
