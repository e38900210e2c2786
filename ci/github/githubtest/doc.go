// Package githubtest simulates the GitHub Actions runner's contract with a
// Docker container action, so end-to-end tests can run the oidc-exchange
// binary (as a subprocess, or through its realMain) the way a hosted runner
// would, and then inspect what the runner would have done with its output.
//
// [Options.Mode] picks how the action's steps run: in a simulated container
// (the default, described below), in a real container started with
// [Runner.DockerRunArgs] (the runner's own docker run command line, with
// the literal /github/… paths and bind mounts), or as a native step (a
// JavaScript action or a run: step on the host: no mounts, no
// translation). [Options.RunnerUser] gives the runner's files to the runner
// user, as on a hosted runner where the container runs as root.
//
// The package deliberately imports nothing from this module: it models
// the runner (actions/runner, src/Runner.Worker), not our code, so a bug
// shared by the simulation and the code under test cannot hide itself.
//
// # A job in four calls
//
//	a := githubtest.LoadAction(t, "action.yml") // declared inputs, args, post entrypoint
//	r := githubtest.New(t, githubtest.Options{
//		IDTokenPermission: true,
//		Mint:              func(aud string) string { return issuer.Mint(aud, now, nil) },
//		InputDefaults:     a.InputDefaults(), // e.g. "runner-temp": "${{ runner.temp }}"
//		Args:              a.Runs.Args,        // e.g. "--runner-temp=${{ inputs.runner-temp }}"
//		MountRunnerTemp:   true,
//	})
//	step := r.Step(githubtest.Main, map[string]string{"role-to-assume": "arn:aws:iam::123456789012:role/x"})
//	var stdout, stderr bytes.Buffer
//	err := realMain(ctx, step.Args, step.Getenv, &stdout, &stderr) // or exec.Command with step.Environ()
//	res := r.Finish(step, stdout.Bytes(), stderr.Bytes())
//	res.AssertNoProblems(t)
//	res.AssertNoLeak(t, secretAccessKey, sessionToken)
//	res.AssertNoInjectedCommands(t, "add-mask", "debug", "warning", "error", "notice", "group", "endgroup")
//	post := r.Step(githubtest.Post, nil) // STATE_* from main, same inputs and args
//
// A job that uses the action more than once names each use with
// [Runner.StepOf]: every use keeps its own state and inputs for its post
// stage, as the runner keeps GITHUB_STATE per step.
//
// # Host and container paths
//
// A hosted runner keeps its files under <work> (/home/runner/work) and
// bind-mounts parts of it into the action's container:
//
//	host (<work>/…)                    container (/…)                     simulated container path
//	_temp/_github_home                 /github/home                       <root>/github/home
//	_temp/_github_workflow             /github/workflow                   <root>/github/workflow
//	_temp/_runner_file_commands        /github/file_commands              <root>/github/file_commands
//	<repo>/<repo> (the workspace)      /github/workspace                  <root>/github/workspace
//	_temp (Options.MountRunnerTemp)    /github/runner_temp                <root>/github/runner_temp
//
// Tests cannot mount anything at /github, so the container root <root> is
// a separate temporary directory standing in for the container's "/", and
// each mount is a symbolic link from <root>/github/<name> to its
// host directory: a file the code under test writes through a container
// path appears at the host path, exactly as through a bind mount. Every
// environment value the runner translates (it rewrites any value equal to
// or under a mounted host directory, as ContainerInfo.TranslateToContainerPath
// does) therefore reads <root>/github/… rather than /github/…; code
// that compares paths with the literal "/github/…" needs a seam for the
// root. [Runner.ContainerPath] maps a literal container path into the
// simulation and [Runner.HostPath] maps either form back to the host.
// Arguments are never translated, as on the runner, so a hidden input
// defaulting to ${{ runner.temp }} and passed through runs.args delivers
// the host path. Unlike a real container, the simulation cannot hide host
// paths from the code under test; [Runner.Finish] reports, as a problem,
// any file the step created under a host directory that is not mounted.
// Likewise os.Getwd in a subprocess started in [StepEnv.Dir] returns the
// host workspace behind the link; use GITHUB_WORKSPACE instead.
//
// # Output processing
//
// The runner reads the container's stdout and stderr line by line (a line
// ends at "\n", "\r\n" or a lone "\r", as .NET's ReadLine does), processes
// workflow commands on both, and masks every registered secret in what it
// displays. Its stderr queue is drained before its stdout queue, so the
// relative order of the two streams is not what the program wrote. Finish
// cannot know the real interleaving, so it models the worst case: it
// processes all stderr lines first and then all stdout lines (one command
// processor, so ::stop-commands:: state is shared), masks registered on
// stderr never protect stdout lines, and [StepResult.AssertNoLeak] treats
// any secret on stderr as a leak, masked or not. A mask applies to the lines
// after the add-mask line on the same stream and to every later step.
//
// File commands (GITHUB_ENV, GITHUB_OUTPUT, GITHUB_STATE, GITHUB_PATH,
// GITHUB_STEP_SUMMARY) are parsed after the step, with [ParseEnvFile], a
// port of the runner's EnvFileKeyValuePairs (Linux semantics: a CR before
// LF stays part of the line). Entries before a malformed one still apply,
// as the runner parses lazily.
//
// Not modelled: file ownership and modes under a root container, pre
// entrypoints, problem matchers, job outputs, runs.env of action.yml, proxy
// variables, ::echo:: and debug-mode echoing, and composite actions.
package githubtest
