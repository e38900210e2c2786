package github

import "strings"

// Mask implements [exchange.Masker]: it issues ::add-mask:: for value
// through go-githubactions, whose escaping lets multi-line values and "%"
// round-trip. Empty and white-space-only values are skipped: the runner
// refuses them with a warning, and a mask of spaces would wreck the log.
// Callers register each line and encoded form separately
// ([exchange.MaskForms]); Mask registers exactly what it is given. A failed
// write, which makes the library panic, is returned as an error.
func (e *Edge) Mask(value string) (err error) {
	if strings.TrimSpace(value) == "" {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			// The library's panic carries the write error, never the value.
			err = recovered("registering a log mask", r)
		}
	}()
	e.action.AddMask(value)
	return nil
}
