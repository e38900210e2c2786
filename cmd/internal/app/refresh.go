package app

import (
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/ci/github"
	"github.com/oidc-exchange/oidc-exchange/ci/shell"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/input"
	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"
	"github.com/oidc-exchange/oidc-exchange/providers"
	awsprovider "github.com/oidc-exchange/oidc-exchange/providers/aws"
)

// refreshSkipped are the settings a refreshing profile's command does not
// repeat: the ones that shape this step's export rather than an exchange
// (profiles, outputs), and the ones the command receives resolved
// (the role per profile, the audience, the issuer, the audit log).
var refreshSkipped = []string{
	"provider", "roles", "aws-profile", "overwrite-aws-profile", "refresh", "role-to-assume",
	"audience", "oidc-issuer", "oidc-enterprise-slug", "audit-log",
}

// refreshCommand is the credential_process of a refreshing profile: the
// installed copy of this program running `aws --format
// credential-process` with this step's settings, one flag per setting the
// job gave (the tables name them), so each refresh exchanges exactly what
// the step did. The SDKs run it with sh -c, so every word that sh would
// not read as it is gets quoted.
func refreshCommand(bin, roleARN, audience, issuer, auditLog string, src input.Source, getenv func(string) string) (string, error) {
	if err := refreshable(getenv); err != nil {
		return "", err
	}
	words := []string{bin, "aws", "--role-arn", roleARN, "--audience", audience, "--oidc-issuer", issuer}
	if auditLog != "" {
		words = append(words, "--audit-log", auditLog)
	}
	specs := append(slices.Clone(input.Specs(commonInputs())), providers.Inputs(providers.AWS)...)
	for i := range specs {
		s := &specs[i]
		if s.Flag == "" || s.Secret || slices.Contains(refreshSkipped, s.Label()) {
			continue
		}
		v, ok, err := input.Value(s, src, getenv)
		if err != nil {
			return "", err
		}
		if !ok || v == "" || v == s.Default {
			continue
		}
		for _, item := range flagValues(s.Kind, v) {
			words = append(words, "--"+s.Flag, item)
		}
	}
	// Last, and bare: the SDKs strip quotes that open and close a value,
	// so the line must not end with a quoted word.
	words = append(words, "--format", string(shell.FormatCredentialProcess))
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = w
		if !bareWordRE().MatchString(w) {
			quoted[i] = shell.Quote(w)
		}
	}
	return strings.Join(quoted, " "), nil
}

// bareWordRE matches words sh reads as they are: paths, ARNs, URLs.
var bareWordRE = lazyre.New(`^[A-Za-z0-9_./:=@,+%-]+$`)

// refreshable refuses what a refreshing profile cannot carry.
func refreshable(getenv func(string) string) error {
	if runtime.GOOS == "windows" {
		return exchange.InputError("refresh", "is not supported on Windows runners yet (credential_process there runs under cmd.exe, whose quoting differs); use a Linux or macOS runner, or keys that outlive the job's longest step")
	}
	// The command line is written into the config file and shown to
	// every process as argv: no password may be in it.
	if u, err := url.Parse(strings.TrimSpace(getenv(inputEnvName("http-proxy")))); err == nil && u.User != nil {
		return exchange.InputError("refresh", "cannot repeat an http-proxy that holds a password: the profile's command line is readable by later steps; set HTTPS_PROXY for the job instead")
	}
	return nil
}

// flagValues splits a setting's value into the uses of its flag: one per
// line or item for the repeating kinds.
func flagValues(k input.Kind, v string) []string {
	switch k {
	case input.Lines:
		var out []string
		for _, l := range strings.Split(v, "\n") {
			if strings.TrimSpace(l) != "" {
				out = append(out, l)
			}
		}
		return out
	case input.List:
		return input.SplitList(v)
	default:
		return []string{v}
	}
}

// refreshAuditFile is where a refreshing profile's records go when the job
// names no audit-log: beside the installed copy, in the runner temp
// directory, so that every refresh leaves a record.
const refreshAuditFile = "oidc-exchange-audit.jsonl"

// refreshPlan is refresh in two moves: while the settings are read, the
// provider is given a command line for each role's profile (a closure over
// the plan), and only once every setting is valid is the copy installed
// that those lines run. Nothing is installed for a run that is refused.
type refreshPlan struct {
	e      *env
	edge   *github.Edge
	logger *slog.Logger
	cfg    *actionConfig
	// Filled by install.
	bin, auditLog string
}

// planRefresh gives aws its command lines, to be completed by install.
func planRefresh(e *env, edge *github.Edge, logger *slog.Logger, cfg *actionConfig, aws *awsprovider.Config) (*refreshPlan, error) {
	if err := refreshable(e.getenv); err != nil {
		return nil, err
	}
	plan := &refreshPlan{e: e, edge: edge, logger: logger, cfg: cfg}
	aws.CredentialProcess = func(role string) string {
		// install rendered every setting once, so this cannot fail.
		line, _ := plan.command(role)
		return line
	}
	return plan, nil
}

func (p *refreshPlan) command(role string) (string, error) {
	return refreshCommand(p.bin, role, p.cfg.audience, p.cfg.issuer.String(), p.auditLog, actionSource(p.e.getenv), p.e.getenv)
}

// install copies this program where later steps run it, settles the audit
// log the refreshes append to, and renders a line once to report a
// setting that cannot be passed on.
func (p *refreshPlan) install() error {
	exe, err := p.e.executable()
	if err != nil {
		return fmt.Errorf("refresh: locating this program: %w", err)
	}
	inst, err := p.edge.InstallExecutable(exe)
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	p.logger.Info(fmt.Sprintf("oidc-exchange: refreshing profiles run %s (sha256 %s)", inst.Host, inst.SHA256))
	// The records of later refreshes go to the same file as this step's,
	// under the path later steps see.
	if p.cfg.auditLog == "" {
		p.cfg.auditLog = filepath.Join(filepath.Dir(inst.Container), refreshAuditFile)
	}
	audit, err := p.edge.AuditFile(p.cfg.auditLog)
	if err != nil {
		return err
	}
	if p.auditLog, err = p.edge.HostPath(audit.Path); err != nil {
		return fmt.Errorf("refresh: the audit log's path for later steps: %w", err)
	}
	p.bin = inst.Host
	_, err = p.command("")
	return err
}
