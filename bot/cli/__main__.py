"""``python -m bot.cli``: the ``swarm`` command."""

from bot.cli.main import main

if __name__ == "__main__":
    main()
