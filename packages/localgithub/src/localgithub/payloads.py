"""JSON bodies in GitHub's shapes (the REST API description's schemas)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

from localgithub.git import ChangedFile, CommitInfo
from localgithub.model import (
    CheckRun,
    Comment,
    Event,
    Issue,
    Json,
    Label,
    Repo,
    Review,
    ReviewComment,
    Status,
    User,
)

ROLE_PERMISSIONS = {
    "admin": {"admin": True, "maintain": True, "push": True, "triage": True, "pull": True},
    "write": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True},
    "read": {"admin": False, "maintain": False, "push": False, "triage": False, "pull": True},
    "none": {"admin": False, "maintain": False, "push": False, "triage": False, "pull": False},
}
EMPTY_REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket")


def node_id(kind: str, number: int) -> str:
    """A GraphQL-style global id, e.g. ``I_kwDOAB...``."""
    return f"{kind}_" + base64.b64encode(f"{kind}:{number}".encode()).decode().rstrip("=")


def iso_utc(git_date: str) -> str:
    """Git's strict ISO date (``...+00:00``) as GitHub writes it (``...Z``)."""
    return git_date.replace("+00:00", "Z")


@dataclass
class Render:
    """Renders the model as GitHub's JSON; ``api`` and ``web`` are the base URLs."""

    api: str
    web: str
    user_by_login: Callable[[str], User]

    # -- users and repositories -------------------------------------------------------

    def user(self, login: str) -> Json:
        """A simple-user."""
        user = self.user_by_login(login)
        url = f"{self.api}/users/{login}"
        return {
            "login": login,
            "id": user.id,
            "node_id": node_id("U", user.id),
            "avatar_url": f"{self.web}/avatars/{login}",
            "gravatar_id": "",
            "url": url,
            "html_url": f"{self.web}/{login}",
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": "User",
            "user_view_type": "public",
            "site_admin": False,
        }

    def private_user(self, user: User) -> Json:
        """``GET /user``: the authenticated user."""
        body = self.user(user.login)
        body.update(
            {
                "name": user.login,
                "company": None,
                "blog": "",
                "location": None,
                "email": None,
                "hireable": None,
                "bio": None,
                "twitter_username": None,
                "public_repos": 0,
                "public_gists": 0,
                "followers": 0,
                "following": 0,
                "created_at": user.created_at,
                "updated_at": user.created_at,
                "private_gists": 0,
                "total_private_repos": 0,
                "owned_private_repos": 0,
                "disk_usage": 0,
                "collaborators": 0,
                "two_factor_authentication": True,
                "plan": {
                    "name": "free",
                    "space": 976562499,
                    "collaborators": 0,
                    "private_repos": 10000,
                },
            }
        )
        return body

    def repo(self, repo: Repo, permission: str = "read") -> Json:
        """A repository (the full shape, as in a pull request's head and base); ``permission``
        is the viewer's."""
        url = f"{self.api}/repos/{repo.full_name}"
        html = f"{self.web}/{repo.full_name}"
        body: Json = {
            "id": repo.id,
            "node_id": node_id("R", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": self.user(repo.owner),
            "private": repo.private,
            "html_url": html,
            "description": None,
            "fork": False,
            "url": url,
        }
        for key, suffix in _REPO_URLS:
            body[key] = url + suffix
        body.update(
            {
                "git_url": f"{self.web}/{repo.full_name}.git".replace("http", "git", 1),
                "ssh_url": f"git@localhost:{repo.full_name}.git",
                "clone_url": f"{html}.git",
                "svn_url": html,
                "homepage": None,
                "size": 0,
                "stargazers_count": 0,
                "watchers_count": 0,
                "language": None,
                "has_issues": True,
                "has_projects": False,
                "has_downloads": True,
                "has_wiki": False,
                "has_pages": False,
                "has_discussions": False,
                "forks_count": 0,
                "mirror_url": None,
                "archived": False,
                "disabled": False,
                "open_issues_count": sum(
                    1 for issue in repo.issues.values() if issue.state == "open"
                ),
                "license": None,
                "allow_forking": True,
                "is_template": False,
                "web_commit_signoff_required": False,
                "topics": [],
                "visibility": "private" if repo.private else "public",
                "forks": 0,
                "open_issues": 0,
                "watchers": 0,
                "default_branch": repo.default_branch,
                "created_at": repo.created_at,
                "updated_at": repo.created_at,
                "pushed_at": repo.created_at,
                "permissions": dict(ROLE_PERMISSIONS[permission]),
                "temp_clone_token": None,
                "template_repository": None,
                "allow_merge_commit": True,
                "allow_squash_merge": True,
                "allow_rebase_merge": False,
                "allow_auto_merge": False,
                "delete_branch_on_merge": False,
                "network_count": 0,
                "subscribers_count": 0,
            }
        )
        body["open_issues"] = body["open_issues_count"]
        return body

    # -- issues -------------------------------------------------------------------------

    def label(self, repo: Repo, label: Label) -> Json:
        """A label."""
        return {
            "id": label.id,
            "node_id": node_id("LA", label.id),
            "url": f"{self.api}/repos/{repo.full_name}/labels/{label.name}",
            "name": label.name,
            "color": label.color,
            "default": label.default,
            "description": label.description,
        }

    def issue(self, repo: Repo, issue: Issue) -> Json:
        """An issue; a pull request's issue has ``pull_request`` and ``draft``."""
        base = f"{self.api}/repos/{repo.full_name}"
        url = f"{base}/issues/{issue.number}"
        kind = "pull" if issue.pull else "issues"
        body: Json = {
            "id": issue.id,
            "node_id": node_id("I", issue.id),
            "url": url,
            "repository_url": base,
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": f"{self.web}/{repo.full_name}/{kind}/{issue.number}",
            "number": issue.number,
            "state": issue.state,
            "title": issue.title,
            "body": issue.body,
            "user": self.user(issue.user),
            "pinned_comment": None,
            "labels": [self.label(repo, repo.labels[name]) for name in issue.labels],
            "assignee": self.user(issue.assignees[0]) if issue.assignees else None,
            "assignees": [self.user(login) for login in issue.assignees],
            "milestone": None,
            "locked": False,
            "active_lock_reason": None,
            "comments": sum(1 for c in repo.comments.values() if c.issue == issue.number),
            "closed_at": issue.closed_at,
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "closed_by": self.user(issue.closed_by) if issue.closed_by else None,
            "author_association": self.association(repo, issue.user),
            "state_reason": issue.state_reason,
            "reactions": self.reactions(url),
            "timeline_url": f"{url}/timeline",
            "performed_via_github_app": None,
            "sub_issues_summary": self.sub_issues_summary(repo, issue),
        }
        if issue.pull is not None:
            pulls = f"{self.web}/{repo.full_name}/pull/{issue.number}"
            body["draft"] = issue.pull.draft
            body["pull_request"] = {
                "url": f"{base}/pulls/{issue.number}",
                "html_url": pulls,
                "diff_url": f"{pulls}.diff",
                "patch_url": f"{pulls}.patch",
                "merged_at": issue.pull.merged_at,
            }
        return body

    def sub_issues_summary(self, repo: Repo, issue: Issue) -> Json:
        """Counts of an issue's sub-issues."""
        children = [i for i in repo.issues.values() if i.parent == issue.number]
        done = sum(1 for i in children if i.state == "closed")
        percent = round(100 * done / len(children)) if children else 0
        return {"total": len(children), "completed": done, "percent_completed": percent}

    def reactions(self, url: str) -> Json:
        """An empty reaction rollup."""
        body: Json = {"url": f"{url}/reactions", "total_count": 0}
        body.update({name: 0 for name in EMPTY_REACTIONS})
        return body

    def association(self, repo: Repo, login: str) -> str:
        """OWNER, COLLABORATOR or NONE."""
        if login == repo.owner:
            return "OWNER"
        user = self.user_by_login(login)
        return "COLLABORATOR" if user.permission in ("write", "admin") else "NONE"

    def event(self, repo: Repo, event: Event) -> Json:
        """An issue event."""
        body: Json = {
            "id": event.id,
            "node_id": node_id("LE", event.id),
            "url": f"{self.api}/repos/{repo.full_name}/issues/events/{event.id}",
            "actor": self.user(event.actor),
            "event": event.event,
            "commit_id": event.commit_id,
            "commit_url": (
                f"{self.api}/repos/{repo.full_name}/commits/{event.commit_id}"
                if event.commit_id
                else None
            ),
            "created_at": event.created_at,
            "performed_via_github_app": None,
        }
        if event.label is not None:
            body["label"] = {"name": event.label, "color": event.color or "ededed"}
        if event.rename is not None:
            body["rename"] = dict(event.rename)
        return body

    def comment(self, repo: Repo, comment: Comment) -> Json:
        """An issue comment."""
        base = f"{self.api}/repos/{repo.full_name}"
        url = f"{base}/issues/comments/{comment.id}"
        issue = repo.issues[comment.issue]
        kind = "pull" if issue.pull else "issues"
        return {
            "id": comment.id,
            "node_id": node_id("IC", comment.id),
            "url": url,
            "html_url": f"{self.web}/{repo.full_name}/{kind}/{comment.issue}"
            f"#issuecomment-{comment.id}",
            "body": comment.body,
            "user": self.user(comment.user),
            "created_at": comment.created_at,
            "updated_at": comment.updated_at,
            "issue_url": f"{base}/issues/{comment.issue}",
            "author_association": self.association(repo, comment.user),
            "performed_via_github_app": None,
            "reactions": self.reactions(url),
            "minimized": None,
            "pin": None,
        }

    def permission(self, repo: Repo, user: User) -> Json:
        """``GET .../collaborators/{user}/permission``."""
        permission = "admin" if user.login == repo.owner else user.permission
        collaborator = self.user(user.login)
        collaborator["permissions"] = dict(ROLE_PERMISSIONS[permission])
        collaborator["role_name"] = permission
        return {"permission": permission, "role_name": permission, "user": collaborator}

    # -- pulls ----------------------------------------------------------------------------

    def pull(
        self,
        repo: Repo,
        issue: Issue,
        head_sha: str,
        base_sha: str,
        mergeable: bool | None,
        counts: tuple[int, int, int, int],
        full: bool = True,
    ) -> Json:
        """A pull request (``full``) or a pull-request-simple (in lists)."""
        assert issue.pull is not None
        pull = issue.pull
        base = f"{self.api}/repos/{repo.full_name}"
        url = f"{base}/pulls/{issue.number}"
        html = f"{self.web}/{repo.full_name}/pull/{issue.number}"
        body: Json = {
            "url": url,
            "id": issue.id,
            "node_id": node_id("PR", issue.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": f"{base}/issues/{issue.number}",
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{base}/pulls/comments{{/number}}",
            "comments_url": f"{base}/issues/{issue.number}/comments",
            "statuses_url": f"{base}/statuses/{head_sha}",
            "number": issue.number,
            "state": issue.state,
            "locked": False,
            "title": issue.title,
            "user": self.user(issue.user),
            "body": issue.body,
            "labels": [self.label(repo, repo.labels[name]) for name in issue.labels],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "closed_at": issue.closed_at,
            "merged_at": pull.merged_at,
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": self.user(issue.assignees[0]) if issue.assignees else None,
            "assignees": [self.user(login) for login in issue.assignees],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": self.branch_ref(repo, pull.head, head_sha),
            "base": self.branch_ref(repo, pull.base, base_sha),
            "_links": {
                "self": {"href": url},
                "html": {"href": html},
                "issue": {"href": f"{base}/issues/{issue.number}"},
                "comments": {"href": f"{base}/issues/{issue.number}/comments"},
                "review_comments": {"href": f"{url}/comments"},
                "review_comment": {"href": f"{base}/pulls/comments{{/number}}"},
                "commits": {"href": f"{url}/commits"},
                "statuses": {"href": f"{base}/statuses/{head_sha}"},
            },
            "author_association": self.association(repo, issue.user),
            "auto_merge": None,
            "draft": pull.draft,
        }
        if full:
            commits, additions, deletions, changed = counts
            body.update(
                {
                    "merged": pull.merged,
                    "mergeable": mergeable,
                    "rebaseable": mergeable,
                    "mergeable_state": _mergeable_state(issue, mergeable),
                    "merged_by": self.user(pull.merged_by) if pull.merged_by else None,
                    "comments": sum(1 for c in repo.comments.values() if c.issue == issue.number),
                    "review_comments": sum(
                        1 for c in repo.review_comments.values() if c.pull == issue.number
                    ),
                    "maintainer_can_modify": pull.maintainer_can_modify,
                    "commits": commits,
                    "additions": additions,
                    "deletions": deletions,
                    "changed_files": changed,
                }
            )
        return body

    def branch_ref(self, repo: Repo, ref: str, sha: str) -> Json:
        """A pull request's ``head`` or ``base``."""
        return {
            "label": f"{repo.owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.user(repo.owner),
            "repo": self.repo(repo),
        }

    def changed_file(self, repo: Repo, head_sha: str, changed: ChangedFile) -> Json:
        """One entry of ``GET .../pulls/{n}/files``."""
        body: Json = {
            "sha": changed.blob_sha,
            "filename": changed.filename,
            "status": changed.status,
            "additions": changed.additions,
            "deletions": changed.deletions,
            "changes": changed.additions + changed.deletions,
            "blob_url": f"{self.web}/{repo.full_name}/blob/{head_sha}/{changed.filename}",
            "raw_url": f"{self.web}/{repo.full_name}/raw/{head_sha}/{changed.filename}",
            "contents_url": f"{self.api}/repos/{repo.full_name}/contents/{changed.filename}"
            f"?ref={head_sha}",
            "patch": changed.patch,
        }
        if changed.previous_filename:
            body["previous_filename"] = changed.previous_filename
        return body

    def commit(self, repo: Repo, commit: CommitInfo) -> Json:
        """One entry of ``GET .../pulls/{n}/commits``."""
        base = f"{self.api}/repos/{repo.full_name}"
        return {
            "url": f"{base}/commits/{commit.sha}",
            "sha": commit.sha,
            "node_id": node_id("C", int(commit.sha[:7], 16)),
            "html_url": f"{self.web}/{repo.full_name}/commit/{commit.sha}",
            "comments_url": f"{base}/commits/{commit.sha}/comments",
            "commit": {
                "url": f"{base}/git/commits/{commit.sha}",
                "author": {
                    "name": commit.author_name,
                    "email": commit.author_email,
                    "date": iso_utc(commit.author_date),
                },
                "committer": {
                    "name": commit.committer_name,
                    "email": commit.committer_email,
                    "date": iso_utc(commit.committer_date),
                },
                "message": commit.message,
                "tree": {"sha": commit.tree, "url": f"{base}/git/trees/{commit.tree}"},
                "comment_count": 0,
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "signature": None,
                    "payload": None,
                    "verified_at": None,
                },
            },
            "author": None,
            "committer": None,
            "parents": [
                {
                    "sha": parent,
                    "url": f"{base}/commits/{parent}",
                    "html_url": f"{self.web}/{repo.full_name}/commit/{parent}",
                }
                for parent in commit.parents
            ],
        }

    def review(self, repo: Repo, review: Review) -> Json:
        """A pull request review."""
        pull_url = f"{self.api}/repos/{repo.full_name}/pulls/{review.pull}"
        html = f"{self.web}/{repo.full_name}/pull/{review.pull}#pullrequestreview-{review.id}"
        return {
            "id": review.id,
            "node_id": node_id("PRR", review.id),
            "user": self.user(review.user),
            "body": review.body,
            "state": review.state,
            "html_url": html,
            "pull_request_url": pull_url,
            "author_association": self.association(repo, review.user),
            "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
            "submitted_at": review.submitted_at,
            "commit_id": review.commit_id,
        }

    def review_comment(self, repo: Repo, comment: ReviewComment) -> Json:
        """A review comment (a comment on a line of the diff)."""
        base = f"{self.api}/repos/{repo.full_name}"
        url = f"{base}/pulls/comments/{comment.id}"
        html = f"{self.web}/{repo.full_name}/pull/{comment.pull}#discussion_r{comment.id}"
        pull_url = f"{base}/pulls/{comment.pull}"
        return {
            "url": url,
            "pull_request_review_id": comment.review_id,
            "id": comment.id,
            "node_id": node_id("PRRC", comment.id),
            "diff_hunk": "",
            "path": comment.path,
            "position": comment.line,
            "original_position": comment.line,
            "commit_id": comment.commit_id,
            "original_commit_id": comment.commit_id,
            "user": self.user(comment.user),
            "body": comment.body,
            "created_at": comment.created_at,
            "updated_at": comment.created_at,
            "html_url": html,
            "pull_request_url": pull_url,
            "author_association": self.association(repo, comment.user),
            "_links": {
                "self": {"href": url},
                "html": {"href": html},
                "pull_request": {"href": pull_url},
            },
            "start_line": comment.start_line,
            "original_start_line": comment.start_line,
            "start_side": comment.side if comment.start_line else None,
            "line": comment.line,
            "original_line": comment.line,
            "side": comment.side,
            "subject_type": "line" if comment.line is not None else "file",
            "reactions": self.reactions(url),
        }

    # -- CI -----------------------------------------------------------------------------

    def check_run(self, repo: Repo, run: CheckRun) -> Json:
        """A check run."""
        url = f"{self.api}/repos/{repo.full_name}/check-runs/{run.id}"
        output = {
            "title": run.output.get("title"),
            "summary": run.output.get("summary"),
            "text": run.output.get("text"),
            "annotations_count": 0,
            "annotations_url": f"{url}/annotations",
        }
        return {
            "id": run.id,
            "head_sha": run.head_sha,
            "node_id": node_id("CR", run.id),
            "external_id": run.external_id or "",
            "url": url,
            "html_url": f"{self.web}/{repo.full_name}/runs/{run.id}",
            "details_url": run.details_url,
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": run.started_at,
            "completed_at": run.completed_at,
            "output": output,
            "name": run.name,
            "check_suite": {"id": run.id},
            "app": self.app(),
            "pull_requests": [],
        }

    def app(self) -> Json:
        """The GitHub App that check runs belong to."""
        return {
            "id": 1,
            "slug": "localgithub-ci",
            "node_id": node_id("A", 1),
            "client_id": "Iv1.localgithub",
            "owner": self.user("github-actions"),
            "name": "localgithub CI",
            "description": "",
            "external_url": self.web,
            "html_url": f"{self.web}/apps/localgithub-ci",
            "created_at": "2020-01-01T00:00:00Z",
            "updated_at": "2020-01-01T00:00:00Z",
            "permissions": {
                "checks": "write",
                "metadata": "read",
                "contents": "read",
                "issues": "write",
                "single_file": "write",
            },
            "events": [],
        }

    def status(self, repo: Repo, status: Status) -> Json:
        """A commit status."""
        return {
            "url": f"{self.api}/repos/{repo.full_name}/statuses/{status.sha}",
            "avatar_url": None,
            "id": status.id,
            "node_id": node_id("SC", status.id),
            "state": status.state,
            "description": status.description,
            "target_url": status.target_url,
            "context": status.context,
            "created_at": status.created_at,
            "updated_at": status.updated_at,
            "creator": self.user(status.creator),
        }

    def combined_status(self, repo: Repo, sha: str, statuses: list[Status]) -> Json:
        """``GET .../commits/{ref}/status``: the latest status per context, and their sum."""
        states = {s.state for s in statuses}
        if not statuses or "pending" in states:
            state = "pending"
        elif states & {"error", "failure"}:
            state = "failure"
        else:
            state = "success"
        base = f"{self.api}/repos/{repo.full_name}"
        return {
            "state": state,
            "statuses": [self.status(repo, s) for s in statuses],
            "sha": sha,
            "total_count": len(statuses),
            "repository": self.minimal_repo(repo),
            "commit_url": f"{base}/commits/{sha}",
            "url": f"{base}/commits/{sha}/status",
        }

    def minimal_repo(self, repo: Repo) -> Json:
        """The repository, as the combined status embeds it."""
        body = self.repo(repo)
        for key in _NOT_IN_MINIMAL:
            body.pop(key, None)
        return body


def _mergeable_state(issue: Issue, mergeable: bool | None) -> str:
    if issue.state == "closed" or mergeable is None:
        return "unknown"
    assert issue.pull is not None
    if issue.pull.draft:
        return "draft"
    return "clean" if mergeable else "dirty"


_REPO_URLS = (
    ("forks_url", "/forks"),
    ("keys_url", "/keys{/key_id}"),
    ("collaborators_url", "/collaborators{/collaborator}"),
    ("teams_url", "/teams"),
    ("hooks_url", "/hooks"),
    ("issue_events_url", "/issues/events{/number}"),
    ("events_url", "/events"),
    ("assignees_url", "/assignees{/user}"),
    ("branches_url", "/branches{/branch}"),
    ("tags_url", "/tags"),
    ("blobs_url", "/git/blobs{/sha}"),
    ("git_tags_url", "/git/tags{/sha}"),
    ("git_refs_url", "/git/refs{/sha}"),
    ("trees_url", "/git/trees{/sha}"),
    ("statuses_url", "/statuses/{sha}"),
    ("languages_url", "/languages"),
    ("stargazers_url", "/stargazers"),
    ("contributors_url", "/contributors"),
    ("subscribers_url", "/subscribers"),
    ("subscription_url", "/subscription"),
    ("commits_url", "/commits{/sha}"),
    ("git_commits_url", "/git/commits{/sha}"),
    ("comments_url", "/comments{/number}"),
    ("issue_comment_url", "/issues/comments{/number}"),
    ("contents_url", "/contents/{+path}"),
    ("compare_url", "/compare/{base}...{head}"),
    ("merges_url", "/merges"),
    ("archive_url", "/{archive_format}{/ref}"),
    ("downloads_url", "/downloads"),
    ("issues_url", "/issues{/number}"),
    ("pulls_url", "/pulls{/number}"),
    ("milestones_url", "/milestones{/number}"),
    ("notifications_url", "/notifications{?since,all,participating}"),
    ("labels_url", "/labels{/name}"),
    ("releases_url", "/releases{/id}"),
    ("deployments_url", "/deployments"),
)
_NOT_IN_MINIMAL = (
    "permissions",
    "temp_clone_token",
    "template_repository",
    "allow_merge_commit",
    "allow_squash_merge",
    "allow_rebase_merge",
    "allow_auto_merge",
    "delete_branch_on_merge",
    "network_count",
    "subscribers_count",
    "size",
    "stargazers_count",
    "watchers_count",
    "language",
    "has_issues",
    "has_projects",
    "has_downloads",
    "has_wiki",
    "has_pages",
    "has_discussions",
    "forks_count",
    "mirror_url",
    "archived",
    "disabled",
    "open_issues_count",
    "license",
    "allow_forking",
    "is_template",
    "web_commit_signoff_required",
    "topics",
    "visibility",
    "forks",
    "open_issues",
    "watchers",
    "default_branch",
    "created_at",
    "updated_at",
    "pushed_at",
    "clone_url",
    "svn_url",
    "homepage",
)
