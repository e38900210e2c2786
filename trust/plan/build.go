package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"
)

// Plan is the trust configuration for one workflow on one cloud.
type Plan struct {
	// Cloud is the platform the plan is for.
	Cloud Cloud
	// Repository is the trusted OWNER/REPO.
	Repository string
	// Issuer and Audience are the token issuer and audience trusted.
	Issuer, Audience string
	// Subjects are the sub values trusted, for AWS and Azure, which match
	// on sub; empty for GCP, which matches on individual claims.
	Subjects []string
	// Principal is the principal set GCP binds to the service account;
	// empty for other clouds.
	Principal string
	// Pins lists, in words, every claim the plan pins.
	Pins []string
	// Artifacts are the files and commands to apply, in order.
	Artifacts []Artifact
	// Warnings are weaknesses the user should fix, e.g. trust on names.
	Warnings []string
	// Placeholders are defaults standing in for the user's own values;
	// nothing that holds one can be applied as is.
	Placeholders []Placeholder
	// Notes explain the plan's choices.
	Notes []string
}

// Artifact is one file or command sequence of a plan.
type Artifact struct {
	// Name is a stable key, e.g. "aws_trust_policy", "gcloud", "terraform".
	Name string
	// Title is a heading for people.
	Title string
	// Kind is "json", "shell" or "hcl".
	Kind string
	// Content is the artifact as text, ending in a newline.
	Content string
	// JSON is the object a json artifact encodes: a [TrustPolicy],
	// [OIDCProviderInput], [WorkloadIdentityProvider] or
	// [FederatedCredential]. Nil for other kinds.
	JSON any
}

// Placeholder is a default standing in for a value only the user knows.
type Placeholder struct {
	// Flag sets the real value, e.g. "--account-id".
	Flag string
	// Value is the placeholder used in the artifacts.
	Value string
	// What the value is.
	What string
}

// Artifact kinds.
const (
	KindJSON  = "json"
	KindShell = "shell"
	KindHCL   = "hcl"
)

// spec is a validated request with every default resolved.
type spec struct {
	Request
	owner, repo   string
	kind          githubfacts.IssuerKind
	prefix        string // condition-key prefix / IAM provider name
	context       string // sub context: ref:… or environment:…
	nameSub       string
	immutableSub  string
	hasIDs        bool
	refIsWildcard bool
	plan          *Plan
}

// Build validates r and writes the plan for its cloud.
func Build(r Request) (*Plan, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	s := &spec{Request: r}
	s.owner, s.repo, _ = strings.Cut(r.Repository, "/")
	if s.Issuer == "" {
		s.Issuer = DefaultIssuer
	}
	s.kind, _ = githubfacts.ClassifyIssuer(s.Issuer)
	s.prefix = githubfacts.ConditionKeyPrefix(s.Issuer)
	s.hasIDs = r.RepositoryID != ""
	s.refIsWildcard = strings.HasSuffix(r.Ref, "*")
	if r.Environment != "" {
		s.context = githubfacts.EnvironmentContext(r.Environment)
	} else {
		s.context = githubfacts.RefContext(r.Ref)
	}
	s.nameSub = githubfacts.NameSubject(r.Repository, s.context)
	if s.hasIDs {
		s.immutableSub = githubfacts.ImmutableSubject(s.owner, r.OwnerID, s.repo, r.RepositoryID, s.context)
	}
	s.plan = &Plan{Cloud: r.Cloud, Repository: r.Repository, Issuer: s.Issuer}

	var err error
	switch r.Cloud {
	case AWS:
		err = s.aws()
	case GCP:
		err = s.gcp()
	case Azure:
		err = s.azure()
	}
	if err != nil {
		return nil, err
	}
	s.pins()
	s.commonNotes()
	return s.plan, nil
}

// pins describes the claims the cloud's artifacts pin, and warns about
// names. It runs after the cloud's artifacts are built, so that it reports
// what they hold.
func (s *spec) pins() {
	p := s.plan
	immutable := slices.Contains(p.Subjects, s.immutableSub) && s.hasIDs
	switch {
	case !s.hasIDs:
		p.Pins = append(p.Pins, fmt.Sprintf("repository %s by name", s.Repository))
	case s.Cloud == GCP:
		p.Pins = append(p.Pins, fmt.Sprintf("repository %s by id %s, owner %s by id %s (attribute condition)",
			s.Repository, s.RepositoryID, s.owner, s.OwnerID))
	case s.Cloud == AWS && immutable && len(p.Subjects) == 1:
		p.Pins = append(p.Pins, fmt.Sprintf("repository %s by id %s, owner %s by id %s (immutable subject, repository_id key)",
			s.Repository, s.RepositoryID, s.owner, s.OwnerID))
	case s.Cloud == AWS && immutable:
		p.Pins = append(p.Pins, fmt.Sprintf("repository %s by id %s (repository_id key), owner %s by id %s (immutable subject) or by name (name-form subject)",
			s.Repository, s.RepositoryID, s.owner, s.OwnerID))
	case s.Cloud == AWS:
		p.Pins = append(p.Pins, fmt.Sprintf("repository %s by id %s (repository_id key), owner %s by name (subject)",
			s.Repository, s.RepositoryID, s.owner))
	case immutable:
		p.Pins = append(p.Pins, fmt.Sprintf("repository %s by id %s, owner %s by id %s (immutable subject)",
			s.Repository, s.RepositoryID, s.owner, s.OwnerID))
	default:
		p.Pins = append(p.Pins, fmt.Sprintf("repository %s by name (the credential's subject cannot carry the ids)", s.Repository))
	}
	var warnings []string
	if !s.hasIDs {
		warnings = append(warnings, fmt.Sprintf(
			"This plan trusts %s by name. Names can be re-registered after a rename or deletion, and whoever "+
				"registers them receives identical claims. Pass --repository-id and --owner-id to pin GitHub's "+
				"never-reused ids (gh api repos/%s --jq '.id, .owner.id').", s.Repository, s.Repository))
	}
	if s.Environment != "" {
		p.Pins = append(p.Pins, fmt.Sprintf("environment %q", s.Environment))
	}
	if s.Ref != "" {
		what := "ref " + s.Ref
		if s.refIsWildcard {
			what += " (prefix match)"
		}
		p.Pins = append(p.Pins, what)
	}
	if s.JobWorkflowRef != "" {
		p.Pins = append(p.Pins, "reusable workflow "+s.JobWorkflowRef)
		if _, ref, _ := strings.Cut(s.JobWorkflowRef, "@"); strings.HasPrefix(ref, "refs/heads/") {
			warnings = append(warnings, "The reusable workflow is pinned to a branch: protect "+ref+
				" in its repository (or pin a 40-hex commit sha), or anyone who can push there controls the job.")
		}
	}
	// These come first: they concern the whole plan, the cloud's own
	// warnings its details.
	p.Warnings = append(warnings, p.Warnings...)
}

func (s *spec) placeholder(flag, value, what string) string {
	s.plan.Placeholders = append(s.plan.Placeholders, Placeholder{Flag: flag, Value: value, What: what})
	return value
}

func (s *spec) note(format string, args ...any) {
	s.plan.Notes = append(s.plan.Notes, fmt.Sprintf(format, args...))
}

func (s *spec) warn(format string, args ...any) {
	s.plan.Warnings = append(s.plan.Warnings, fmt.Sprintf(format, args...))
}

func (s *spec) add(a Artifact) {
	if !strings.HasSuffix(a.Content, "\n") {
		a.Content += "\n"
	}
	s.plan.Artifacts = append(s.plan.Artifacts, a)
}

func (s *spec) addJSON(name, title string, v any) error {
	content, err := marshalJSON(v, "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", name, err)
	}
	s.add(Artifact{Name: name, Title: title, Kind: KindJSON, Content: content, JSON: v})
	return nil
}

// commonNotes explains choices every cloud shares.
func (s *spec) commonNotes() {
	if s.kind == githubfacts.GHES {
		s.note("%s/.well-known/openid-configuration and the JWKS it names must be reachable from the cloud's "+
			"token service over the internet, with a publicly trusted certificate.", s.Issuer)
	}
	if s.Environment == "" && strings.HasPrefix(s.Ref, "refs/heads/") {
		s.note("Protect %s (branch protection or rulesets): whoever can push to it can assume this identity. "+
			"A GitHub environment with required reviewers (--environment) is stronger for deploy roles.", s.Ref)
	}
	if s.Environment != "" {
		s.note("Give the environment %q required reviewers and deployment-branch rules in the repository settings; "+
			"the environment name must match the workflow's `environment:` exactly.", s.Environment)
	}
	s.note("Pull-request contexts are never planned: a pull request runs unreviewed code and must not hold a " +
		"privileged role. Do not run pull_request_target or workflow_run jobs that check out untrusted code in " +
		"the trusted context: their tokens carry the base branch's ref.")
}

var nonNameRE = lazyre.New(`[^a-z0-9-]+`)

// deriveWIFID makes a pool or provider id (4–32 of [a-z0-9-], not gcp-…)
// from a name.
func deriveWIFID(name string) string {
	id := strings.Trim(nonNameRE().ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(id) < 4 || strings.HasPrefix(id, "gcp-") || !(id[0] >= 'a' && id[0] <= 'z') {
		id = "gh-" + id
	}
	if len(id) > 32 {
		id = id[:32]
	}
	id = strings.TrimRight(id, "-")
	for len(id) < 4 {
		id += "x"
	}
	return id
}

var nonFICRE = lazyre.New(`[^A-Za-z0-9_-]+`)

// deriveCredentialName makes an Entra credential name (3–120 of
// [A-Za-z0-9_-], starting with a letter or digit).
func deriveCredentialName(parts ...string) string {
	name := strings.Trim(nonFICRE().ReplaceAllString(strings.Join(parts, "-"), "-"), "-_")
	if len(name) > 120 {
		name = strings.TrimRight(name[:120], "-_")
	}
	return name
}
