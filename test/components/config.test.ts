// Stack config fills what a Registration leaves out: acme:directoryUrl, acme:email, acme:caCertificatesPem.
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it } from "vitest";
import { acme, capture, isSecret, plain } from "./helpers";

const CONFIG = {
    "acme:directoryUrl": "https://acme.test/from-config",
    "acme:email": "config@example.test",
    "acme:caCertificatesPem": "-----BEGIN CERTIFICATE-----\nfrom-config\n-----END CERTIFICATE-----\n",
};

afterEach(() => pulumi.runtime.setAllConfig({}));

describe("Registration and stack config", () => {
    it("takes the directory, e-mail and CA bundle from acme:* config when the program gives none", async () => {
        pulumi.runtime.setAllConfig(CONFIG);
        const captured = await capture(() => {
            new acme.Registration("account", { accountKeyPem: "key", termsOfServiceAgreed: true });
        });
        const inputs = captured.find("account").inputs;
        expect(plain(inputs.directoryUrl)).toBe(CONFIG["acme:directoryUrl"]);
        expect(plain(inputs.email)).toBe(CONFIG["acme:email"]);
        expect(plain(inputs.caCertificatesPem)).toBe(CONFIG["acme:caCertificatesPem"]);
        expect(isSecret(inputs.accountKeyPem)).toBe(true);
    });

    it("prefers what the program says", async () => {
        pulumi.runtime.setAllConfig(CONFIG);
        const captured = await capture(() => {
            new acme.Registration("account", {
                directoryUrl: acme.directories.letsEncrypt.staging,
                email: "program@example.test",
                accountKeyPem: "key",
                termsOfServiceAgreed: true,
            });
        });
        const inputs = captured.find("account").inputs;
        expect(plain(inputs.directoryUrl)).toBe("https://acme-staging-v02.api.letsencrypt.org/directory");
        expect(plain(inputs.email)).toBe("program@example.test");
    });
});
