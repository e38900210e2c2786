package lazyre_test

import (
	"testing"

	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"
)

func TestNewCompilesOnceOnFirstUse(t *testing.T) {
	t.Parallel()
	re := lazyre.New(`^[a-z]+$`)
	first := re()
	if !first.MatchString("abc") || first.MatchString("ABC") {
		t.Fatalf("%v does not match as compiled", first)
	}
	if re() != first {
		t.Error("a second call compiled again")
	}
}

func TestNewPanicsOnFirstUseOfABadExpression(t *testing.T) {
	t.Parallel()
	re := lazyre.New(`(`) // nothing happens yet
	defer func() {
		if recover() == nil {
			t.Error("no panic for an expression that does not compile")
		}
	}()
	re()
}
