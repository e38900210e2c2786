package github

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"sort"
	"sync"

	"github.com/sethvargo/go-githubactions"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

// State keys the edge saves to GITHUB_STATE. The runner hands each one to
// the post step as the environment variable STATE_<key>.
const (
	// StatePost marks that the main step ran far enough for the post step
	// to have something to do; see [IsPost].
	StatePost = "post"
	// StateExportedEnv lists, comma-separated, the environment variables
	// the main step exported, so the post step can blank them.
	StateExportedEnv = "exported_env"
	// StateFiles lists, comma-separated, the container paths of files the
	// main step created, so the post step can remove them.
	StateFiles = "files"
	// StateSections lists, as JSON, the shared files the main step merged
	// sections into (container path, section names, whether it created
	// the file), so the post step can remove those sections; see
	// [exchange.Section].
	StateSections = "sections"
)

// Config configures an [Edge]. Getenv and Stdout are required; every other
// field has a safe default.
type Config struct {
	// Getenv reads the step's environment. The edge never reads the
	// process environment itself, so tests and the post step can supply
	// their own.
	Getenv func(string) string
	// Stdout receives every workflow command: masks, the audit group. The
	// runner reads commands from the step's stdout only. It must be safe
	// for concurrent use if it is shared with a log handler (*os.File is).
	Stdout io.Writer
	// HTTPClient requests the OIDC token. Nil means [httpclient.New] with
	// its defaults; it is never http.DefaultClient.
	HTTPClient *http.Client
	// Retry bounds retries of the token request. The zero value means
	// [httpclient.DefaultPolicy].
	Retry httpclient.Policy
	// Logger receives debug and progress messages. Nil discards them.
	Logger *slog.Logger
	// Random supplies the random heredoc delimiters and credential file
	// names. Nil means crypto/rand; tests pass a fixed reader for
	// reproducible files.
	Random io.Reader
	// HostRunnerTemp is the host path of the runner temp directory,
	// <work>/_temp, as the action receives it through its args
	// (${{ runner.temp }}, which the runner does not translate there).
	// Export needs it only for credential files, to export their host
	// path; empty means the fallbacks of [NewPaths]. Ignored with Native.
	HostRunnerTemp string
	// HostWorkspace is the host path of the workspace, as the action
	// receives it through its args (${{ github.workspace }}, untranslated
	// there). [Edge.TokenFile] needs it only for a token file in the
	// workspace, to name it by its host path. Ignored with Native.
	HostWorkspace string
	// Native means the program runs as a step of its own on the runner
	// host, or inside the job container (the native action, which runs
	// the release binary from a node action), not as a container action.
	// The paths it sees are then the paths later steps see: credential
	// files go to RUNNER_TEMP and are exported by that path, without the
	// container's mounts or their translation.
	Native bool
}

// Edge is the GitHub Actions edge. Create it with [New]; it is safe for
// concurrent use.
type Edge struct {
	getenv func(string) string
	stdout io.Writer
	action *githubactions.Action
	retry  httpclient.Policy
	logger *slog.Logger

	// mu serialises writes to stdout, to the file commands and to
	// credential files, and reads of random, so that lines and heredocs
	// never interleave.
	mu     sync.Mutex
	random io.Reader
	// hostRunnerTemp is Config.HostRunnerTemp.
	hostRunnerTemp string
	// hostWorkspace is Config.HostWorkspace.
	hostWorkspace string
	// native is Config.Native.
	native bool
	// eol ends the lines of file commands; see [lineEnding].
	eol string
	// files lists the container paths of the credential files this edge
	// created, all of which the state must name. Guarded by mu.
	files []string
	// shared lists the shared files this edge merged sections into, all
	// of which the state must name. Guarded by mu.
	shared []sharedRecord
}

var (
	_ exchange.TokenSource       = (*Edge)(nil)
	_ exchange.Masker            = (*Edge)(nil)
	_ exchange.Exporter          = (*Edge)(nil)
	_ exchange.Reporter          = (*Edge)(nil)
	_ exchange.CredentialSourcer = (*Edge)(nil)
)

// New validates cfg and returns an edge. It makes no network call and
// writes nothing.
func New(cfg Config) (*Edge, error) {
	if cfg.Getenv == nil {
		return nil, errors.New("github edge: Config.Getenv is required")
	}
	if cfg.Stdout == nil {
		return nil, errors.New("github edge: Config.Stdout is required")
	}
	client := cfg.HTTPClient
	if client == nil {
		client = httpclient.New(httpclient.Options{})
	}
	if cfg.Retry.MaxAttempts == 0 {
		cfg.Retry = httpclient.DefaultPolicy()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	return &Edge{
		getenv: cfg.Getenv,
		stdout: cfg.Stdout,
		action: githubactions.New(
			githubactions.WithGetenv(cfg.Getenv),
			githubactions.WithWriter(cfg.Stdout),
			githubactions.WithHTTPClient(tokenClient(client)),
		),
		retry:          cfg.Retry,
		logger:         cfg.Logger,
		random:         cfg.Random,
		hostRunnerTemp: cfg.HostRunnerTemp,
		hostWorkspace:  cfg.HostWorkspace,
		native:         cfg.Native,
		eol:            lineEnding(runtime.GOOS),
	}, nil
}

// IsPost reports whether this run is the post step of a main step that
// called [Edge.MarkPost] or [Edge.Export]: the runner then sets
// STATE_post. The container's post entrypoint is the primary signal; this
// serves a caller that shares one entrypoint, and is read before any edge
// exists, because it decides which step to run.
func IsPost(getenv func(string) string) bool {
	return getenv("STATE_"+StatePost) != ""
}

// MarkPost saves the post marker. Call it early in the main step, before
// anything can fail, so the post step knows the main step started.
func (e *Edge) MarkPost() error {
	return e.SaveState(map[string]string{StatePost: "true"})
}

// SaveState appends the given keys to GITHUB_STATE with the same checks and
// random delimiters as [Edge.Export]; the post step reads them as
// STATE_<key>. Keys must match ^[A-Za-z_][A-Za-z0-9_]*$. Keep values small
// (names, paths): step debug logs print them.
func (e *Edge) SaveState(state map[string]string) error {
	if len(state) == 0 {
		return nil
	}
	keys := make([]string, 0, len(state))
	for k := range state {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	entries := make([]entry, 0, len(keys))
	for _, k := range keys {
		entries = append(entries, entry{name: k, value: state[k]})
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.writeFileCommands([]batch{{kind: kindState, entries: entries}}); err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	return nil
}

// write prints b to stdout in one call, so a block of lines is never
// interleaved with another writer's.
func (e *Edge) write(b []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, err := e.stdout.Write(b)
	return err
}

// recovered turns a recovered panic value into an error.
func recovered(what string, r any) error {
	if err, ok := r.(error); ok {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %v", what, r)
}
