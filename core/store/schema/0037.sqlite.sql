-- issue 52: posts for any front end. The notifier loops' own records are no longer named
-- after Discord: ``discord.reposted`` is ``post.reposted`` and ``discord.post_failed`` is
-- ``post.failed`` (the loop that wrote each, and so its front end, is in its ``data.loop``)
-- step
UPDATE events SET kind = 'post.reposted' WHERE kind = 'discord.reposted'
-- step
UPDATE events SET kind = 'post.failed' WHERE kind = 'discord.post_failed'
