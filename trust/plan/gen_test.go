package plan

import (
	"fmt"
	"math/rand/v2"
)

// Deterministic pseudo-random requests for the property tests: every
// combination the planner supports, with names that stress quoting.

var (
	genOwners = []string{"octo-org", "a", "Octo-Org", "x9", "release-eng", "ghes_user"}
	genRepos  = []string{"octo-repo", ".github", "repo.name", "a-b_c", "R", "infra.tf-live"}
	genEnvs   = []string{
		"production", "Production", "prod east", "staging:eu", "Production:V1", "o'brien", `say "hi"`,
		"cost $HOME", "a${b}c", "100%{x}", `back\slash`, "ünïcode env", "semi;colon & amp", "<tag>", "!bang",
		"`tick`", "spaces  inside", "x",
	}
	genBranches = []string{"refs/heads/main", "refs/heads/master", "refs/heads/release/1.x", "refs/heads/prod",
		"refs/tags/v1.2.3", "refs/tags/release-2026"}
	genWildcardRefs = []string{"refs/tags/v*", "refs/heads/release/*", "refs/tags/release-*"}
	genIssuers      = []string{
		"",
		"https://token.actions.githubusercontent.com",
		"https://token.actions.githubusercontent.com/octo-enterprise",
		"https://token.actions.acme.ghe.com",
		"https://token.actions.acme.ghe.com/acme",
		"https://github.example.com/_services/token",
	}
	genWorkflowRefs = []string{"refs/heads/main", "refs/heads/master", "refs/tags/v2", "0123456789abcdef0123456789abcdef01234567"}
)

// genCase is one generated request and a label for failure messages.
type genCase struct {
	name string
	req  Request
}

// generateRequests returns n valid requests, the same ones on every run.
func generateRequests(n int) []genCase {
	rng := rand.New(rand.NewPCG(2026, 11))
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	cases := make([]genCase, 0, n)
	for i := range n {
		cloud := Clouds[i%len(Clouds)]
		owner, repo := pick(genOwners), pick(genRepos)
		r := Request{Cloud: cloud, Repository: owner + "/" + repo, Issuer: pick(genIssuers)}
		if rng.IntN(3) > 0 {
			r.RepositoryID = fmt.Sprint(1 + rng.Int64N(2_000_000_000))
			r.OwnerID = fmt.Sprint(1 + rng.Int64N(300_000_000))
		} else {
			r.AllowNames = true
		}
		switch rng.IntN(4) {
		case 0:
			r.Environment = pick(genEnvs)
		case 1:
			r.Ref = pick(genBranches)
		case 2:
			if cloud == Azure {
				r.Ref = pick(genBranches)
			} else {
				r.Ref = pick(genWildcardRefs)
			}
		default:
			r.Environment = pick(genEnvs)
			if cloud != Azure {
				r.Ref = pick(append(genBranches, genWildcardRefs...))
			}
		}
		if cloud != Azure && rng.IntN(3) == 0 {
			r.JobWorkflowRef = pick(genOwners) + "/" + pick(genRepos) + "/.github/workflows/deploy.yml@" + pick(genWorkflowRefs)
		}
		ghes := r.Issuer == "https://github.example.com/_services/token"
		if r.RepositoryID != "" && cloud != GCP {
			switch rng.IntN(4) {
			case 0:
				r.SubjectFormat = SubjectName
			case 1:
				if !ghes {
					r.SubjectFormat = SubjectImmutable
				}
			}
		}
		switch cloud {
		case AWS:
			if rng.IntN(2) == 0 {
				r.AccountID = fmt.Sprintf("%012d", rng.Int64N(1_000_000_000_000))
			}
			if rng.IntN(4) == 0 {
				r.Partition = pick([]string{"aws", "aws-us-gov", "aws-cn"})
			}
		case GCP:
			if rng.IntN(2) == 0 {
				r.ProjectNumber = fmt.Sprint(1 + rng.Int64N(999_999_999_999))
				r.ServiceAccount = "ci-deployer@my-proj-" + fmt.Sprint(rng.IntN(1000)) + ".iam.gserviceaccount.com"
			}
			if rng.IntN(3) == 0 {
				r.PoolID, r.ProviderID = "ci-pool", "gh-"+fmt.Sprint(rng.IntN(10000))
			}
		case Azure:
			if rng.IntN(2) == 0 {
				r.ClientID = fmt.Sprintf("%08x-0000-4000-8000-%012x", rng.Uint32(), rng.Int64N(1<<40))
			}
		}
		cases = append(cases, genCase{name: fmt.Sprintf("%03d-%s", i, cloud), req: r})
	}
	return cases
}
