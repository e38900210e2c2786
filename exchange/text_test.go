package exchange_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

func TestTruncate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    string
		n    int
		want string
	}{
		{"fits", "denied", 6, "denied"},
		{"empty", "", 3, ""},
		{"cut ascii", "abcdef", 4, "abc…"},
		{"cut to the marker alone", "abcdef", 1, "…"},
		{"zero limit", "abc", 0, ""},
		{"negative limit", "abc", -1, ""},
		// Each of these characters is several bytes: a byte cut at 4
		// would split one.
		{"cut between multi-byte characters", "äöüß", 3, "äö…"},
		{"cjk fits by characters", "拒否されました", 7, "拒否されました"},
		{"cjk cut", "拒否されました", 4, "拒否さ…"},
		{"emoji", "🔑🔑🔑", 2, "🔑…"},
		{"cut after a combining mark", "e\u0301e\u0301e\u0301", 3, "e\u0301…"},
		{"long upstream message", strings.Repeat("x", 400), 300, strings.Repeat("x", 299) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := exchange.Truncate(tt.s, tt.n); got != tt.want {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
			}
		})
	}
}

// FuzzTruncate: from valid UTF-8, Truncate returns valid UTF-8 of at most
// n characters, a prefix of the input (plus the marker) and a fixed point.
func FuzzTruncate(f *testing.F) {
	for _, s := range []string{"", "abc", "äöüß", "拒否されました", "🔑🔑🔑", "e\u0301", strings.Repeat("é", 301)} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		n %= 1000
		got := exchange.Truncate(s, n)
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Truncate(%q, %d) = %q, not valid UTF-8", s, n, got)
		}
		if c := utf8.RuneCountInString(got); c > max(n, 0) {
			t.Fatalf("Truncate(%q, %d) = %q, %d characters", s, n, got, c)
		}
		if got == s {
			return
		}
		if n > 0 && !strings.HasPrefix(s, strings.TrimSuffix(got, "…")) {
			t.Fatalf("Truncate(%q, %d) = %q, not a prefix of the input", s, n, got)
		}
		if again := exchange.Truncate(got, n); again != got {
			t.Fatalf("Truncate twice = %q, once = %q", again, got)
		}
	})
}
