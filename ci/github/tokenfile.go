package github

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// tokenFileInput is the input that names a token file.
const tokenFileInput = "web-identity-token-file"

// TokenFile resolves the web-identity-token-file input, checked before
// anything runs: the file holds a token the job got elsewhere than from
// the runner's token endpoint, such as a self-hosted runner's projected
// Kubernetes service-account token. It returns the path this process
// opens and the host path of the same file, by which later steps on the
// host read it (a GCP credential file that refreshes itself names it).
//
// A container action sees only its mounts, so p must lie in the workspace
// (where a relative p is resolved), /github/home, or /github/runner_temp
// on runners that mount it; the runner has already translated a host path
// under one of them, such as ${{ runner.temp }}/token, into the container
// path. Any other path is an input error that names the mounts and the
// native action, which sees the runner as it is. Natively p is opened as
// given, and its host path is p made absolute.
func (e *Edge) TokenFile(p string) (open, host string, err error) {
	if e.native {
		host, err := filepath.Abs(p)
		if err != nil {
			return "", "", fmt.Errorf("making the token file path absolute: %w", err)
		}
		return p, host, nil
	}
	clean, m, ok, err := inMounts(e.getenv, tokenFileInput, p)
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "", exchange.InputError(tokenFileInput, "%q is not in the workspace, %s or %s, the only directories of the runner "+
			"this container action sees (%s from runner v2.331.0); for a file elsewhere on the runner, such as an EKS "+
			"service-account token, use the native action (uses: oidc-exchange/oidc-exchange/native@<version>), which reads it where it is",
			clean, ContainerHome, ContainerRunnerTemp, ContainerRunnerTemp)
	}
	paths, err := NewPaths(e.getenv, e.hostRunnerTemp)
	if err != nil {
		return "", "", fmt.Errorf("locating the host path of the token file: %w", err)
	}
	if ws := path.Clean(e.hostWorkspace); path.IsAbs(ws) && ws != "/github" && !strings.HasPrefix(ws, "/github/") {
		paths.HostWorkspace = ws
	}
	host, err = paths.ToHost(m.literal + strings.TrimPrefix(clean, m.dir))
	if err != nil {
		// Only an action run without its args (--github-workspace) gets
		// here; a credential file must never name a container path.
		return "", "", exchange.InputError(tokenFileInput, "%q: cannot tell its path on the host (%v); put it under ${{ runner.temp }}", clean, err)
	}
	return clean, host, nil
}
