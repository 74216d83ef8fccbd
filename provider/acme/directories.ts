// Directory URLs of public ACME CAs.

/** Directory URLs of well-known ACME CAs, for `Registration.directoryUrl` or `pulumi config set acme:directoryUrl`. */
export const directories = {
    letsEncrypt: {
        production: "https://acme-v02.api.letsencrypt.org/directory",
        staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
    },
    /** Requires External Account Binding. */
    zeroSsl: {
        production: "https://acme.zerossl.com/v2/DV90",
    },
    /** Google Trust Services; requires External Account Binding. */
    googleTrust: {
        production: "https://dv.acme-v02.api.pki.goog/directory",
        staging: "https://dv.acme-v02.test-api.pki.goog/directory",
    },
} as const;
