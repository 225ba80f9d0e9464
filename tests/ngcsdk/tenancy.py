"""Drives a live Arca with NVIDIA's official ngcsdk (PyPI), as an NGC user would.

Environment: ARCA_KEY (an Arca API key), ARCA_ORG, plus the ngcsdk variables NGC_CLI_API_URL,
NGC_CLI_AUTH_URL, NGC_CLI_HOME, REQUESTS_CA_BUNDLE (the test CA) and NGC_CLI_TRACE_DISABLE=1.
Prints one JSON object with what it saw; exits non-zero on the first failed check.
"""

import json
import os
import sys

import ngcsdk


def flatten(pages):
    out = []
    for page in pages:
        out.extend(page if isinstance(page, list) else [page])
    return out


def main():
    org = os.environ["ARCA_ORG"]
    client = ngcsdk.Client()
    client.configure(api_key=os.environ["ARCA_KEY"], org_name=org, team_name=None)

    orgs = [(o.name, o.displayName) for o in client.organization.organization.list()]
    assert (org, orgs[0][1]) in orgs, orgs

    client.organization.team.create(name="ngc-team", description="made by ngcsdk", org=org)
    teams = sorted(t.name for t in client.organization.team.list(org=org))
    assert "ngc-team" in teams, teams

    users = flatten(client.organization.user.list(org=org))
    emails = sorted(u.email for u in users)
    assert emails, emails

    who = client.users.who(org=org)
    roles = {r.org.name: list(r.orgRoles or []) for r in who.user.roles}
    assert org in roles, roles

    print(json.dumps({
        "orgs": [o[0] for o in orgs],
        "teams": teams,
        "users": emails,
        "me": who.user.email,
        "roles": roles,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
