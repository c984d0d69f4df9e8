//! Brings the playground's browser assets (GraphiQL 4 and React 18, UMD builds) in from the npm
//! registry at pinned versions, checks each tarball against its pinned integrity hash, and leaves the
//! four files the page needs in OUT_DIR, where `src/http/playground.rs` embeds them. Nothing
//! third-party is kept in the repository, and the binary serves the playground with no internet.
//!
//! Set `TOMONI_PLAYGROUND_TARBALLS=DIR` to use tarballs already in DIR (named as `npm pack` names
//! them) instead of asking npm, e.g. on a build machine without registry access.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use sha2::{Digest as _, Sha512};

struct Package {
    spec: &'static str,
    tarball: &'static str,
    integrity: &'static str,
    /// (path inside the tarball, file name in OUT_DIR/playground)
    files: &'static [(&'static str, &'static str)],
}

const PACKAGES: &[Package] = &[
    Package {
        spec: "graphiql@4.1.2",
        tarball: "graphiql-4.1.2.tgz",
        integrity: "sha512-rNlzQIAzm6i2KBXmVQWBgLvt0TloxFVB2d18bukvdsvjEuFDHsKx5IVOomL1W1o5WW+tE54+ioHb2AEKzO2cUg==",
        files: &[
            ("package/graphiql.min.js", "graphiql.min.js"),
            ("package/graphiql.min.css", "graphiql.min.css"),
        ],
    },
    Package {
        spec: "react@18.3.1",
        tarball: "react-18.3.1.tgz",
        integrity: "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
        files: &[(
            "package/umd/react.production.min.js",
            "react.production.min.js",
        )],
    },
    Package {
        spec: "react-dom@18.3.1",
        tarball: "react-dom-18.3.1.tgz",
        integrity: "sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
        files: &[(
            "package/umd/react-dom.production.min.js",
            "react-dom.production.min.js",
        )],
    },
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=TOMONI_PLAYGROUND_TARBALLS");
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap_or_else(|_| fail("OUT_DIR is not set")));
    let assets = out_dir.join("playground");
    fs::create_dir_all(&assets)
        .unwrap_or_else(|err| fail(&format!("cannot create {}: {err}", assets.display())));
    for package in PACKAGES {
        let stamp = assets.join(format!("{}.integrity", package.tarball));
        let present = package
            .files
            .iter()
            .all(|(_, name)| assets.join(name).is_file());
        if present && fs::read_to_string(&stamp).is_ok_and(|s| s == package.integrity) {
            continue;
        }
        let tarball = obtain(package, &out_dir);
        verify(package, &tarball);
        extract(package, &tarball, &assets);
        fs::write(&stamp, package.integrity)
            .unwrap_or_else(|err| fail(&format!("cannot write {}: {err}", stamp.display())));
    }
}

/// The tarball, from TOMONI_PLAYGROUND_TARBALLS or else from `npm pack`.
fn obtain(package: &Package, out_dir: &Path) -> PathBuf {
    if let Ok(dir) = env::var("TOMONI_PLAYGROUND_TARBALLS") {
        let path = Path::new(&dir).join(package.tarball);
        println!("cargo:rerun-if-changed={}", path.display());
        return path;
    }
    let downloads = out_dir.join("npm-pack");
    fs::create_dir_all(&downloads)
        .unwrap_or_else(|err| fail(&format!("cannot create {}: {err}", downloads.display())));
    let status = Command::new(env::var("NPM").unwrap_or_else(|_| "npm".into()))
        .args(["pack", package.spec, "--silent", "--pack-destination"])
        .arg(&downloads)
        .status()
        .unwrap_or_else(|err| {
            fail(&format!(
                "cannot run npm to fetch {} ({err}). Install Node.js and npm, or set \
                 TOMONI_PLAYGROUND_TARBALLS to a folder holding {}",
                package.spec, package.tarball
            ))
        });
    if !status.success() {
        fail(&format!("`npm pack {}` failed ({status})", package.spec));
    }
    downloads.join(package.tarball)
}

fn verify(package: &Package, tarball: &Path) {
    let bytes = fs::read(tarball)
        .unwrap_or_else(|err| fail(&format!("cannot read {}: {err}", tarball.display())));
    let digest = Sha512::digest(&bytes);
    let actual = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    );
    if actual != package.integrity {
        fail(&format!(
            "{} does not match its pinned integrity: expected {}, got {actual}",
            package.spec, package.integrity
        ));
    }
}

fn extract(package: &Package, tarball: &Path, assets: &Path) {
    let scratch = assets.join(format!("{}.unpack", package.tarball));
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(&scratch)
        .unwrap_or_else(|err| fail(&format!("cannot create {}: {err}", scratch.display())));
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(tarball)
        .arg("-C")
        .arg(&scratch)
        .args(package.files.iter().map(|(inside, _)| *inside))
        .status()
        .unwrap_or_else(|err| fail(&format!("cannot run tar: {err}")));
    if !status.success() {
        fail(&format!("tar could not unpack {}", tarball.display()));
    }
    for (inside, name) in package.files {
        fs::rename(scratch.join(inside), assets.join(name))
            .unwrap_or_else(|err| fail(&format!("cannot place {name}: {err}")));
    }
    let _ = fs::remove_dir_all(&scratch);
}

fn fail(message: &str) -> ! {
    eprintln!("error: playground assets: {message}");
    std::process::exit(1)
}
