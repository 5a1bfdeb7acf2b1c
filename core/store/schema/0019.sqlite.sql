-- GitHub in the loop (core/github/links.py): one row per imported issue, naming the task
-- working on it now (the first, or the follow-up a CI failure or a review made), its
-- progress comment, the status label shown, its PR and what swarm last saw of it
-- step
CREATE TABLE github_issues (
        id INTEGER PRIMARY KEY,
        repo TEXT NOT NULL,
        issue INTEGER NOT NULL,
        first_task INTEGER NOT NULL,
        task_id INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'open',
        comment_id INTEGER,
        shown TEXT,
        history TEXT NOT NULL DEFAULT '[]',
        pr INTEGER,
        branch TEXT,
        head_sha TEXT,
        ci TEXT,
        ci_retries INTEGER NOT NULL DEFAULT 0,
        review_id INTEGER NOT NULL DEFAULT 0,
        issue_url TEXT,
        pr_url TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
)
-- step
CREATE UNIQUE INDEX github_issues_issue ON github_issues (repo, issue)
-- step
CREATE INDEX github_issues_task ON github_issues (task_id)
