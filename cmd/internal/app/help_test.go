package app

import (
	"strings"
	"testing"

	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
)

// TestHelpGolden pins the program's help and the flags of the provider
// commands, each named with the kind of value it takes; the exit-code
// line comes from exchange's outcome table. After adding an input, run
// go test -update and read the diff.
func TestHelpGolden(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"aws", "--help"}, {"gcp", "--help"}, {"broker", "--help"}} {
		name := "help_" + args[0] + ".golden"
		if args[0] == "help" {
			name = "help.golden"
		}
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, map[string]string{}, "", nil, args...)
			if r.err != nil {
				t.Fatalf("%v: %v", args, r.err)
			}
			exchangetest.Golden(t, name, r.stdout+r.stderr, *update)
		})
	}
}
