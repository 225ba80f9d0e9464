//! Confirmation of destructive commands.

use std::io::{self, IsTerminal};

use anyhow::{bail, Result};

/// Asks "Do you want to <action>?" on the terminal unless `yes` (`-y`) is given.
///
/// Without a terminal on stdin and stderr nobody can answer, so the command is refused with a
/// message that names `-y`. A "no" cancels the command (an error, exit 1): nothing changed.
pub fn confirm(action: &str, yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !io::stdin().is_terminal() || !io::stderr().is_terminal() {
        bail!(
            "refusing to {action} without confirmation: stdin is not a terminal; \
             pass -y (--yes) to confirm"
        );
    }
    let accepted = dialoguer::Confirm::new()
        .with_prompt(format!("Do you want to {action}?"))
        .default(false)
        .interact()?;
    if !accepted {
        bail!("cancelled: nothing was changed");
    }
    Ok(())
}
