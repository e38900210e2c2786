package githubtest

import (
	"maps"
	"slices"
	"strings"
)

// DockerRunOptions are what the runner's docker run takes from outside the
// step: the image, and the few settings a test environment must supply.
type DockerRunOptions struct {
	// Image is the image reference, as after the runner's pull or build.
	Image string
	// Entrypoint overrides the image's entrypoint; the runner sets it to
	// runs.post-entrypoint for the post stage and leaves it empty for
	// main (unless runs.entrypoint is set).
	Entrypoint string
	// Network is --network. The runner sets it only for a job with a
	// container or services; tests set "host" so the container reaches
	// fakes on the host's 127.0.0.1.
	Network string
	// DockerSock is the host path mounted at /var/run/docker.sock. The
	// runner mounts the host's daemon socket; without a daemon, any
	// existing file will do.
	DockerSock string
}

// DockerRunArgs is the argv after "docker" with which the runner starts
// the container of step (actions/runner v2.336.0,
// DockerCommandManager.DockerRun with the mounts of ContainerActionHandler):
//
//	run --name N --label L --workdir /github/workspace --rm
//	    -e KEY … -e GITHUB_ACTIONS=true [-e CI=true] [--entrypoint E]
//	    [--network NET] -v /var/run/docker.sock:/var/run/docker.sock
//	    [-v <work>/_temp:/github/runner_temp] -v …/_github_home:/github/home
//	    -v …/_github_workflow:/github/workflow
//	    -v …/_runner_file_commands:/github/file_commands
//	    -v <workspace>:/github/workspace IMAGE ARGS…
//
// One -e NAME per variable, without its value: the runner hands the values
// to the docker CLI in its environment, so run the command with
// step.Environ() added to the runtime's own. No --user: the container runs
// as root. The runner quotes each arg for its command line; as an argv
// they need no quoting. The step must come from a Runner in
// [RealContainer] mode.
func (r *Runner) DockerRunArgs(step *StepEnv, o DockerRunOptions) []string {
	r.t.Helper()
	if r.opts.Mode != RealContainer {
		r.t.Fatalf("githubtest: DockerRunArgs needs Options.Mode RealContainer")
	}
	id := randomHex(r.t, 16)
	args := []string{"run",
		"--name", "githubtest_" + id,
		"--label", "githubtest",
		"--workdir", "/github/workspace",
		"--rm",
	}
	for _, k := range slices.Sorted(maps.Keys(step.Env)) {
		args = append(args, "-e", k)
	}
	args = append(args, "-e", "GITHUB_ACTIONS=true")
	if _, ok := step.Env["CI"]; !ok {
		args = append(args, "-e", "CI=true")
	}
	if o.Entrypoint != "" {
		args = append(args, "--entrypoint", o.Entrypoint)
	}
	if o.Network != "" {
		args = append(args, "--network", o.Network)
	}
	args = append(args, "-v", o.DockerSock+":/var/run/docker.sock")
	// The runner's order: runner temp, home, workflow, file commands,
	// workspace.
	order := []string{"/github/runner_temp", "/github/home", "/github/workflow", "/github/file_commands", "/github/workspace"}
	for _, c := range order {
		for _, m := range r.mounts {
			if m.container == c {
				args = append(args, "-v", m.host+":"+m.container)
			}
		}
	}
	args = append(args, o.Image)
	return append(args, step.Args...)
}

// DockerEnviron is the environment to run DockerRunArgs with: base (the
// test process's, which the container runtime needs for its own
// configuration) overlaid with the step's variables, which the -e NAME
// options pick up.
func DockerEnviron(base []string, step *StepEnv) []string {
	out := make([]string, 0, len(base)+len(step.Env))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, shadowed := step.Env[k]; !shadowed {
			out = append(out, kv)
		}
	}
	return append(out, step.Environ()...)
}
