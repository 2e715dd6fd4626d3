"""Create the admin user of the FAB auth manager, or bring its password in line with the Secret.

Run by the chart's create-user Job. The password is read from the environment (a Secret), so it
never appears on a command line or in a process listing.
"""

import os
import sys

from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder


def main() -> int:
    username = os.environ["ADMIN_USERNAME"]
    password = os.environ["AIRKUBE_ADMIN_PASSWORD"]
    with get_application_builder() as appbuilder:
        security = appbuilder.sm
        role = security.find_role("Admin")
        if role is None:
            print("the Admin role does not exist; is the FAB schema migrated?", file=sys.stderr)
            return 1
        user = security.find_user(username=username)
        if user is None:
            created = security.add_user(
                username,
                os.environ["ADMIN_FIRST_NAME"],
                os.environ["ADMIN_LAST_NAME"],
                os.environ["ADMIN_EMAIL"],
                role,
                password,
            )
            if not created:
                print(f"could not create user {username!r}", file=sys.stderr)
                return 1
            print(f"created admin user {username!r}")
        else:
            security.reset_password(user.id, password)
            print(f"admin user {username!r} exists; password set from its Secret")
    return 0


if __name__ == "__main__":
    sys.exit(main())
