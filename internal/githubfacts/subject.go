package githubfacts

import "strings"

// Parts of GitHub's default sub claim, repo:OWNER/REPO:CONTEXT, where
// CONTEXT is one of environment:NAME, ref:REF or pull_request (github/docs
// "Example subject claims").
const (
	SubjectPrefix      = "repo:"
	ContextRef         = "ref:"
	ContextEnvironment = "environment:"
	ContextPullRequest = "pull_request"
)

// RefContext is the sub context of a job on ref (refs/heads/… or
// refs/tags/…) without an environment.
func RefContext(ref string) string { return ContextRef + ref }

// EnvironmentContext is the sub context of a job that references the
// environment env. GitHub percent-encodes ":" inside the name, which would
// otherwise read as the next separator.
func EnvironmentContext(env string) string {
	return ContextEnvironment + strings.ReplaceAll(env, ":", "%3A")
}

// NameSubject is the sub of repository ("OWNER/REPO") in context:
// repo:OWNER/REPO:CONTEXT, the form of repositories created before GitHub's
// immutable-subject cut-over that did not opt in.
func NameSubject(repository, context string) string {
	return SubjectPrefix + repository + ":" + context
}

// ImmutableSubject is the sub that pins the owner and the repository by
// their ids, which are never reused: repo:OWNER@OWNER_ID/REPO@REPO_ID:CONTEXT.
func ImmutableSubject(owner, ownerID, repo, repoID, context string) string {
	return SubjectPrefix + owner + "@" + ownerID + "/" + repo + "@" + repoID + ":" + context
}
