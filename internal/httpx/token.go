package httpx

import (
	"fmt"
	"log/slog"
)

// redacted is what a [Token] shows instead of its value.
const redacted = "[REDACTED]"

// Token is an API credential that refuses to be printed. Its String,
// GoString, Format, LogValue, MarshalText and MarshalJSON methods all yield
// "[REDACTED]", so a token cannot leak through fmt verbs (including %+v and
// %#v), slog attributes or JSON. The value is kept behind a pointer, so even
// a struct that holds a Token in an unexported field prints only an address.
// Only [Token.Reveal] returns the secret; call it where a header is set.
//
// The zero Token is empty. A Token is safe for concurrent use.
type Token struct {
	p *string
}

// NewToken wraps secret in a [Token].
func NewToken(secret string) Token {
	return Token{p: &secret}
}

// Reveal returns the secret. Use it only to set an authentication header.
func (t Token) Reveal() string {
	if t.p == nil {
		return ""
	}
	return *t.p
}

// IsZero reports whether the token is empty.
func (t Token) IsZero() bool {
	return t.Reveal() == ""
}

// String returns "[REDACTED]".
func (t Token) String() string { return redacted }

// GoString returns "[REDACTED]", for the %#v verb.
func (t Token) GoString() string { return redacted }

// Format writes "[REDACTED]" for every fmt verb and flag.
func (t Token) Format(f fmt.State, _ rune) {
	_, _ = f.Write([]byte(redacted))
}

// LogValue returns "[REDACTED]" as a string value for log/slog.
func (t Token) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText returns "[REDACTED]".
func (t Token) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalJSON returns the JSON string "[REDACTED]".
func (t Token) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
