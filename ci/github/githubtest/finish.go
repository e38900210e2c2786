package githubtest

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

// maxSummaryBytes is the runner's step-summary limit; a larger summary is
// not uploaded and the step gets an error annotation.
const maxSummaryBytes = 1 << 20

// logLine is one line of output as the runner processed it.
type logLine struct {
	stream Stream
	no     int
	text   string
	// cmd is the command the runner processed on this line, if any.
	cmd *Command
	// maskN is how much of StepResult.view was registered when the line
	// was displayed (stdout only).
	maskN int
}

// StepResult is what the runner made of one step.
type StepResult struct {
	// Stage is the stage the step ran.
	Stage Stage
	// Env holds the GITHUB_ENV entries later steps receive.
	Env map[string]string
	// Outputs holds GITHUB_OUTPUT entries and deprecated ::set-output::
	// commands.
	Outputs map[string]string
	// State holds GITHUB_STATE entries (and ::save-state::), given to the
	// post stage as STATE_<key>.
	State map[string]string
	// Summary is the raw GITHUB_STEP_SUMMARY content.
	Summary string
	// Path holds GITHUB_PATH entries.
	Path []string
	// Commands lists the workflow commands the runner processed, stderr
	// first (see the package documentation on ordering).
	Commands []Command
	// Stdout and Stderr are the raw streams.
	Stdout, Stderr string
	// MaskedStdout is stdout as the log would show it: each line with the
	// masks registered before it (this step's stdout and earlier steps)
	// replaced by "***".
	MaskedStdout string
	// Masks lists the add-mask values this step registered, in order.
	Masks []string
	// Problems lists what the runner would report as errors or what could
	// not work in a real container: file commands it could not parse,
	// refused variables, disabled commands, host writes outside mounts.
	Problems []string

	view       secretMasker // the job masker at step start plus stdout's masks
	lines      []logLine
	envText    string
	envEntries []envEntry
	outText    string
	outEntries []envEntry
	stateText  string
	pathText   string
	files      []string
}

func (res *StepResult) problem(format string, args ...any) {
	res.Problems = append(res.Problems, fmt.Sprintf(format, args...))
}

// AssertNoProblems fails the test for every problem the step caused.
func (res *StepResult) AssertNoProblems(t testing.TB) {
	t.Helper()
	for _, p := range res.Problems {
		t.Errorf("%s step: %s", res.Stage, p)
	}
}

// Finish processes a finished step as the runner does after the container
// exits, whatever its exit code: it processes the workflow commands in
// stderr and stdout, registers masks job-wide, parses the file commands,
// carries GITHUB_ENV to later steps and keeps GITHUB_STATE for the post
// stage.
func (r *Runner) Finish(step *StepEnv, stdout, stderr []byte) *StepResult {
	r.t.Helper()
	if step != r.current || step.finished {
		r.t.Fatalf("githubtest: Finish must be called once, for the latest step")
	}
	step.finished = true
	res := &StepResult{
		Stage:   step.Stage,
		Env:     map[string]string{},
		Outputs: map[string]string{},
		State:   map[string]string{},
		Stdout:  string(stdout),
		Stderr:  string(stderr),
		view:    r.masker.clone(),
	}
	for i, line := range SplitLines(stderr) {
		cmd := r.process(res, Stderr, i+1, line, nil)
		res.lines = append(res.lines, logLine{stream: Stderr, no: i + 1, text: line, cmd: cmd})
	}
	var masked strings.Builder
	for i, line := range SplitLines(stdout) {
		cmd := r.process(res, Stdout, i+1, line, &res.view)
		n := res.view.Len()
		res.lines = append(res.lines, logLine{stream: Stdout, no: i + 1, text: line, cmd: cmd, maskN: n})
		masked.WriteString(res.view.MaskAt(n, line))
		masked.WriteByte('\n')
	}
	res.MaskedStdout = masked.String()
	r.processFiles(res, step)
	for _, p := range slices.Sorted(maps.Keys(r.snapshotUnmounted())) {
		if !r.hostSnapshot[p] {
			res.problem("the step created %s, a host path no mount exposes; in a real container it would not reach the host", p)
		}
	}
	return res
}

// process handles one output line like ActionCommandManager
// .TryProcessCommand and returns the command it processed, if any. view,
// when set, also receives the masks (stdout's own view).
func (r *Runner) process(res *StepResult, stream Stream, no int, line string, view *secretMasker) *Command {
	registered := registeredCommands()
	if r.stopToken != "" {
		registered[r.stopToken] = true
	}
	c := ParseCommand(line, registered)
	if c == nil {
		return nil
	}
	if r.stopToken != "" {
		// Only the token resumes; every other line, commands included, is
		// plain output.
		if strings.EqualFold(c.Name, r.stopToken) {
			r.stopToken = ""
		}
		return nil
	}
	c.Stream, c.Line = stream, no
	where := fmt.Sprintf("%s line %d", stream, no)
	addMask := func(v string) bool {
		ok := r.masker.AddMask(v)
		if ok && view != nil {
			view.AddMask(v)
		}
		return ok
	}
	switch strings.ToLower(c.Name) {
	case stopCommandName:
		token := c.Data
		if _, known := foldKey(registeredCommands(), token); known || token == "" || strings.EqualFold(token, "pause-logging") {
			// ValidateStopToken throws: the step fails and processing goes on.
			res.problem("%s: ::stop-commands:: with invalid token %q", where, token)
			break
		}
		r.stopToken = token
		if len(token) > 6 {
			// A long token is treated as a secret so a log reader cannot
			// use it to resume processing.
			addMask(token)
		}
	case "add-mask":
		if addMask(c.Data) {
			res.Masks = append(res.Masks, c.Data)
		}
	case "set-output", "save-state":
		name, _ := c.Property("name")
		if name == "" {
			res.problem("%s: required field 'name' is missing in ::%s::", where, c.Name)
			break
		}
		if strings.EqualFold(c.Name, "set-output") {
			res.Outputs[name] = c.Data
		} else {
			r.saveState(res, name, c.Data)
		}
	case "set-env", "add-path":
		res.problem("%s: the ::%s:: command is disabled (ACTIONS_ALLOW_UNSECURE_COMMANDS)", where, c.Name)
	}
	res.Commands = append(res.Commands, *c)
	return c
}

// saveState stores intra-action state; keys are case-insensitive and keep
// their first spelling, like the runner's dictionary.
func (r *Runner) saveState(res *StepResult, key, value string) {
	if r.state == nil {
		r.state = map[string]map[string]string{}
	}
	state := r.state[r.current.ID]
	if state == nil {
		state = map[string]string{}
		r.state[r.current.ID] = state
	}
	if k, ok := foldKey(state, key); ok {
		key = k
	}
	state[key] = value
	res.State[key] = value
}

// processFiles is FileCommandManager.ProcessFiles.
func (r *Runner) processFiles(res *StepResult, step *StepEnv) {
	// The runner skips a file the step deleted; it reads as empty here.
	read := func(name string) string {
		b, _ := os.ReadFile(step.files[name])
		return decodeText(string(b))
	}
	parse := func(name, command string) (string, []envEntry) {
		text := read(name)
		entries, err := parseEnvFile(text, false)
		if err != nil {
			res.problem("unable to process file command %s successfully: %v", command, err)
		}
		return text, entries
	}
	res.envText, res.envEntries = parse("GITHUB_ENV", "env")
	for _, e := range res.envEntries {
		switch {
		case strings.EqualFold(e.Key, "NODE_OPTIONS"):
			res.problem("can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command")
		case e.Key == "":
			res.problem("GITHUB_ENV entry with an empty name")
		default:
			res.Env[e.Key] = e.Value
			r.env[e.Key] = e.Value
		}
	}
	res.outText, res.outEntries = parse("GITHUB_OUTPUT", "output")
	for _, e := range res.outEntries {
		res.Outputs[e.Key] = e.Value
	}
	var state []envEntry
	res.stateText, state = parse("GITHUB_STATE", "state")
	for _, e := range state {
		r.saveState(res, e.Key, e.Value)
	}
	res.pathText = read("GITHUB_PATH")
	for _, line := range SplitLines([]byte(res.pathText)) {
		if line != "" {
			res.Path = append(res.Path, line)
		}
	}
	if res.Summary = read("GITHUB_STEP_SUMMARY"); len(res.Summary) > maxSummaryBytes {
		res.problem("$GITHUB_STEP_SUMMARY supports content up a size of %dk got %dk", maxSummaryBytes/1024, len(res.Summary)/1024)
	}
}

// clone copies the masker, so a step's stdout view can grow on its own.
func (m *secretMasker) clone() secretMasker {
	return secretMasker{
		originals: maps.Clone(m.originals),
		values:    slices.Clone(m.values),
		seen:      maps.Clone(m.seen),
	}
}
