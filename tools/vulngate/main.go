package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
)

// message is one object of govulncheck's JSON stream; only findings
// matter here.
type message struct {
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

func main() {
	code, err := gate(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulngate:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

func gate(r io.Reader, w io.Writer) (int, error) {
	called := map[string]string{} // third-party, called: osv → module@version → fixed
	stdlib := map[string]string{} // standard library, called
	uncalled := map[string]bool{} // imported or required only
	dec := json.NewDecoder(r)
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return 0, fmt.Errorf("reading govulncheck's JSON: %w", err)
		}
		f := m.Finding
		if f == nil || len(f.Trace) == 0 {
			continue
		}
		top := f.Trace[0]
		switch {
		case top.Function == "":
			uncalled[f.OSV] = true
		case top.Module == "stdlib":
			stdlib[f.OSV] = fmt.Sprintf("Go %s, fixed in %s", top.Version, f.FixedVersion)
		default:
			called[f.OSV] = fmt.Sprintf("%s@%s calls into it, fixed in %s", top.Module, top.Version, f.FixedVersion)
		}
	}
	// The same vulnerability is reported at module, package and symbol
	// level; count it once, at the deepest.
	for id := range uncalled {
		if _, ok := called[id]; ok {
			delete(uncalled, id)
		} else if _, ok := stdlib[id]; ok {
			delete(uncalled, id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(stdlib)) {
		if _, err := fmt.Fprintf(w, "note: %s (standard library of %s): build releases with the newest Go patch release\n", id, stdlib[id]); err != nil {
			return 0, err
		}
	}
	for _, id := range slices.Sorted(maps.Keys(called)) {
		if _, err := fmt.Fprintf(w, "VULNERABLE: %s: %s\n", id, called[id]); err != nil {
			return 0, err
		}
	}
	if _, err := fmt.Fprintf(w, "vulngate: %d called in third-party modules, %d in the standard library, %d imported or required but not called\n",
		len(called), len(stdlib), len(uncalled)); err != nil {
		return 0, err
	}
	if len(called) > 0 {
		return 1, nil
	}
	return 0, nil
}
