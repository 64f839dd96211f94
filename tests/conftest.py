"""Shared pytest options and fixtures. Keep this file minimal; add your fixture with a comment."""


def pytest_addoption(parser):
    # cleaners (issue 3): rewrite tests/fixtures/pages/**/expected.json from the current output
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden expected.json files from the current cleaner output (review the diff)",
    )
