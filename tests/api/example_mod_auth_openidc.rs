//! Apache httpd with mod_auth_openidc (Debian's libapache2-mod-auth-openidc), the most deployed
//! OIDC relying party, protecting a path through the real `portcullis` binary:
//! tests/interop/mod_auth_openidc/run-test.sh drives discovery, our login page, the code exchange,
//! the Apache session, a refresh through rotation and logout with curl, and stops both servers.
//! Apache missing fails this test (scripts/test.sh installs it); it is never skipped.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::processes::run_to_completion;

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

#[test]
fn apache_mod_auth_openidc_logs_in_refreshes_and_logs_out_through_portcullis() {
    assert!(
        Path::new("/usr/sbin/apache2").exists() && Path::new("/usr/lib/apache2/modules/mod_auth_openidc.so").exists(),
        "APACHE IS REQUIRED: /usr/sbin/apache2 or mod_auth_openidc.so is missing. Run ./scripts/test.sh, which \
         installs them (or: apt-get install -y apache2 libapache2-mod-auth-openidc)"
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/mod_auth_openidc/run-test.sh");
    let mut command = Command::new("bash");
    command.arg(&script).arg(env!("CARGO_BIN_EXE_portcullis")).stdin(Stdio::null());
    let finished = run_to_completion(&mut command, SCRIPT_TIMEOUT);
    let (status, stdout, stderr) = (finished.status, finished.stdout, finished.stderr);
    println!("--- run-test.sh\n{stdout}--- end of run-test.sh");
    let output = format!("{stdout}\n[stderr]\n{stderr}");
    let status =
        status.unwrap_or_else(|| panic!("run-test.sh ran longer than {SCRIPT_TIMEOUT:?}:\n{output}"));
    assert!(status.success(), "run-test.sh failed ({status}):\n{output}");
    let summary = stdout.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or_default();
    let passed =
        summary.strip_suffix(" passed, 0 failed").and_then(|n| n.parse::<u32>().ok()).unwrap_or_else(|| {
            panic!("the script's last line should read `N passed, 0 failed`, got {summary:?}")
        });
    assert!(passed >= 12, "only {passed} steps ran:\n{output}");
}
