package github

import (
	"fmt"
	"path"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// Container paths of a Docker container action's mounts (the runner's
// DockerCommandManager and ContainerActionHandler).
const (
	// ContainerRunnerTemp is <work>/_temp, mounted since runner v2.331.0
	// (behind a flag from v2.329.0).
	ContainerRunnerTemp = "/github/runner_temp"
	// ContainerHome is <work>/_temp/_github_home, also $HOME.
	ContainerHome = "/github/home"
	// ContainerWorkflow is <work>/_temp/_github_workflow (event.json).
	ContainerWorkflow = "/github/workflow"
	// ContainerFileCommands is <work>/_temp/_runner_file_commands.
	ContainerFileCommands = "/github/file_commands"
	// ContainerWorkspace is the job's workspace, <work>/<repo>/<repo> by
	// default.
	ContainerWorkspace = "/github/workspace"
)

// Paths maps the container action's mount points to host paths.
//
// Paths written to GITHUB_ENV or GITHUB_OUTPUT are used verbatim by later
// steps, and the runner translates host paths into container paths for
// later container steps, never the other way. A file this action creates
// for later steps must therefore be exported by its host path: that path
// works as-is in host steps and JavaScript actions and is translated for
// later container actions (/github/runner_temp/…) and job-container steps.
//
// The host path of the runner temp directory is not visible inside the
// container: the runner rewrites RUNNER_TEMP and every INPUT_* value that
// starts with it to the container path. The action therefore declares a
// hidden input defaulting to ${{ runner.temp }} and passes it through
// runs.args, which the runner does not translate; see [NewPaths].
type Paths struct {
	// HostTemp is the host path of the runner temp directory,
	// <work>/_temp. /github/runner_temp, /github/home, /github/workflow
	// and /github/file_commands all live under it.
	HostTemp string
	// HostWorkspace is the host path mounted at /github/workspace. It is
	// empty unless the caller knows it (for example from
	// ${{ github.workspace }} passed through args); files meant for later
	// steps do not belong in the workspace, where they get committed,
	// uploaded or baked into images.
	HostWorkspace string
	// RunnerTempMounted reports whether HostTemp is mounted at
	// /github/runner_temp; older runners mount only /github/home.
	RunnerTempMounted bool
}

// NewPaths builds the mapping. hostTemp is the host path of the runner temp
// directory as passed through the action's args (${{ runner.temp }}). When
// it is empty two fallbacks are tried. On runners that do not mount the
// runner temp (before v2.331.0) RUNNER_TEMP is not translated, so it is
// the host path itself. Otherwise the documented-nowhere fallback is used:
// the parent of RUNNER_WORKSPACE — which the runner leaves untranslated
// because it is not under a mount — joined with "_temp", the runner's
// internal layout (<work>/<repo> → <work>/_temp). A hostTemp that is itself
// a container path means the translated INPUT_* copy was passed instead of
// the argument; it is refused with an error wrapping
// [exchange.ErrInvalidInput].
func NewPaths(getenv func(string) string, hostTemp string) (Paths, error) {
	// The runner translates RUNNER_TEMP only when it mounts the directory;
	// older runners pass the unmounted host path, which ends in "_temp".
	// The suffix test also accepts a simulated container root (githubtest).
	runnerTemp := path.Clean(strings.TrimSpace(getenv("RUNNER_TEMP")))
	mounted := runnerTemp == ContainerRunnerTemp || strings.HasSuffix(runnerTemp, ContainerRunnerTemp)
	hostTemp = strings.TrimSpace(hostTemp)
	if hostTemp == "" && !mounted && path.IsAbs(runnerTemp) && path.Base(runnerTemp) == "_temp" {
		hostTemp = runnerTemp
	}
	if hostTemp == "" {
		ws := strings.TrimSpace(getenv("RUNNER_WORKSPACE"))
		if ws == "" || !path.IsAbs(ws) {
			return Paths{}, exchange.InputError("runner temp", "no host path given and RUNNER_WORKSPACE is not an absolute path; "+
				"pass ${{ runner.temp }} to the action's args")
		}
		hostTemp = path.Join(path.Dir(path.Clean(ws)), "_temp")
	}
	if !path.IsAbs(hostTemp) {
		return Paths{}, exchange.InputError("runner temp", "%q is not an absolute path", hostTemp)
	}
	hostTemp = path.Clean(hostTemp)
	if hostTemp == "/github" || strings.HasPrefix(hostTemp, "/github/") {
		return Paths{}, exchange.InputError("runner temp", "%q is a container path; pass the host path "+
			"(${{ runner.temp }} through the action's args, not the translated INPUT_ variable)", hostTemp)
	}
	return Paths{HostTemp: hostTemp, RunnerTempMounted: mounted}, nil
}

// mounts lists each mount's container path and host path; a host path is
// empty when unknown.
func (p Paths) mounts() []struct{ container, host string } {
	return []struct{ container, host string }{
		{ContainerRunnerTemp, p.HostTemp},
		{ContainerHome, path.Join(p.HostTemp, "_github_home")},
		{ContainerWorkflow, path.Join(p.HostTemp, "_github_workflow")},
		{ContainerFileCommands, path.Join(p.HostTemp, "_runner_file_commands")},
		{ContainerWorkspace, p.HostWorkspace},
	}
}

// ToContainer translates a host path under one of the mounts into the
// literal container path of the same file, the inverse of [Paths.ToHost].
// The path must be absolute and clean. When two mounts hold it (the
// runner temp directory holds _github_home), the deeper mount wins, as in
// the runner's own translation.
func (p Paths) ToContainer(hostPath string) (string, error) {
	if !path.IsAbs(hostPath) || path.Clean(hostPath) != hostPath {
		return "", fmt.Errorf("host path %q is not clean and absolute", hostPath)
	}
	best, bestHost := "", ""
	for _, m := range p.mounts() {
		if m.host == "" || !path.IsAbs(m.host) || (m.container == ContainerRunnerTemp && !p.RunnerTempMounted) {
			continue
		}
		rest, ok := strings.CutPrefix(hostPath, m.host)
		if !ok || (rest != "" && rest[0] != '/') || len(m.host) <= len(bestHost) {
			continue
		}
		best, bestHost = m.container+rest, m.host
	}
	if best == "" {
		return "", fmt.Errorf("host path %q is not under a mount shared with the container", hostPath)
	}
	return best, nil
}

// ToHost translates a container path under one of the mounts into the
// host path of the same file. The path must be absolute and clean (no ".."
// or "." elements, no trailing slash), and its mount's host path must be
// known.
func (p Paths) ToHost(containerPath string) (string, error) {
	if !path.IsAbs(containerPath) || path.Clean(containerPath) != containerPath {
		return "", fmt.Errorf("container path %q is not clean and absolute", containerPath)
	}
	for _, m := range p.mounts() {
		rest, ok := strings.CutPrefix(containerPath, m.container)
		if !ok || (rest != "" && rest[0] != '/') {
			continue
		}
		switch {
		case m.container == ContainerRunnerTemp && !p.RunnerTempMounted:
			return "", fmt.Errorf("translating %q: %s is not mounted by this runner (v2.331.0 or later mounts it); use %s",
				containerPath, ContainerRunnerTemp, ContainerHome)
		case m.host == "":
			return "", fmt.Errorf("translating %q: the host path of %s is unknown", containerPath, m.container)
		case !path.IsAbs(m.host):
			return "", fmt.Errorf("translating %q: the host path of %s is not absolute", containerPath, m.container)
		}
		return path.Join(m.host, rest), nil
	}
	return "", fmt.Errorf("container path %q is not under a mount shared with the host", containerPath)
}
