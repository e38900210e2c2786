package github

import (
	"path"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// mountDir is a host directory a container action sees: where this
// process opens it, and its literal container path.
type mountDir struct{ dir, literal string }

// inputMounts lists the mounts a path given as an input may lie in: the
// workspace, /github/home and, on runners that mount it (v2.331.0 and
// later), /github/runner_temp, as GITHUB_WORKSPACE, HOME and RUNNER_TEMP
// name them. The variables hold container paths; a simulated container
// root (package githubtest) only adds a prefix, as in fileDir. The
// workspace, when present, comes first.
func inputMounts(getenv func(string) string) []mountDir {
	candidates := []struct{ variable, literal string }{
		{"GITHUB_WORKSPACE", ContainerWorkspace},
		{"HOME", ContainerHome},
		{"RUNNER_TEMP", ContainerRunnerTemp},
	}
	var out []mountDir
	for _, c := range candidates {
		d := path.Clean(strings.TrimSpace(getenv(c.variable)))
		if path.IsAbs(d) && strings.HasSuffix(d, c.literal) {
			out = append(out, mountDir{dir: d, literal: c.literal})
		}
	}
	return out
}

// inMounts resolves p, a path the user gave as the input setting, as the
// container sees it: the runner translates an input that starts with a
// mounted host path into the container path, and starts the container in
// the workspace, against which a relative p is resolved. It returns the
// clean path and its mount; ok is false when p lies in no mount (or is a
// mount itself).
func inMounts(getenv func(string) string, setting, p string) (clean string, m mountDir, ok bool, err error) {
	mounts := inputMounts(getenv)
	if !path.IsAbs(p) {
		if len(mounts) == 0 || mounts[0].literal != ContainerWorkspace {
			return "", mountDir{}, false, exchange.InputError(setting, "%q is relative, and GITHUB_WORKSPACE is not the container's workspace", p)
		}
		p = path.Join(mounts[0].dir, p)
	}
	p = path.Clean(p)
	for _, m := range mounts {
		if p != m.dir && strings.HasPrefix(p, m.dir+"/") {
			return p, m, true, nil
		}
	}
	return p, mountDir{}, false, nil
}
