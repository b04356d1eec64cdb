package in.gov.punjab.sanad.judges;

import eu.europa.esig.dss.jaxb.object.Message;
import eu.europa.esig.dss.model.FileDocument;
import eu.europa.esig.dss.service.crl.OnlineCRLSource;
import eu.europa.esig.dss.service.ocsp.OnlineOCSPSource;
import eu.europa.esig.dss.simplereport.SimpleReport;
import eu.europa.esig.dss.simplereport.jaxb.XmlTimestamp;
import eu.europa.esig.dss.spi.DSSUtils;
import eu.europa.esig.dss.spi.validation.CommonCertificateVerifier;
import eu.europa.esig.dss.spi.x509.CommonTrustedCertificateSource;
import eu.europa.esig.dss.validation.SignedDocumentValidator;
import eu.europa.esig.dss.validation.reports.Reports;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;

/**
 * Sanad's independent PAdES judge: EU DSS validates each PDF named on the command line with
 * only the given root certificate(s) as trust anchors, and prints one JSON object per file on
 * its own line.
 *
 * <p>Usage: {@code DssJudge --root root.pem [--root more.pem] [--offline] a.pdf [--online] b.pdf...}
 *
 * <p>Files after {@code --offline} (the default) are judged on the revocation data they embed
 * alone, as long-term (B-LT, B-LTA) files must be; files after {@code --online} may have
 * their CRLs and OCSP responses fetched from the addresses their certificates name (B-B and
 * B-T files embed none).
 *
 * <p>One JVM validates every file: the JVM and DSS start once (seconds), each further file
 * costs a fraction of a second.
 */
public final class DssJudge {
    private DssJudge() {}

    public static void main(String[] args) throws Exception {
        CommonTrustedCertificateSource anchors = new CommonTrustedCertificateSource();
        List<File> files = new ArrayList<>();
        List<Boolean> online = new ArrayList<>();
        boolean fetch = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--root" -> anchors.addCertificate(DSSUtils.loadCertificate(new File(args[++i])));
                case "--online" -> fetch = true;
                case "--offline" -> fetch = false;
                default -> {
                    files.add(new File(args[i]));
                    online.add(fetch);
                }
            }
        }
        if (anchors.getNumberOfCertificates() == 0 || files.isEmpty()) {
            System.err.println("usage: DssJudge --root root.pem [--offline] a.pdf [--online] b.pdf...");
            System.exit(2);
        }
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        for (int i = 0; i < files.size(); i++) {
            out.println(judge(files.get(i), anchors, online.get(i)));
        }
    }

    private static String judge(File file, CommonTrustedCertificateSource anchors, boolean online) {
        StringBuilder json = new StringBuilder("{\"file\":").append(quote(file.getPath()));
        json.append(",\"online\":").append(online);
        try {
            CommonCertificateVerifier verifier = new CommonCertificateVerifier();
            verifier.setTrustedCertSources(anchors);
            // Offline, whatever the document embeds is all the evidence there is.
            verifier.setCrlSource(online ? new OnlineCRLSource() : null);
            verifier.setOcspSource(online ? new OnlineOCSPSource() : null);
            verifier.setAIASource(null);
            SignedDocumentValidator validator = SignedDocumentValidator.fromDocument(new FileDocument(file));
            validator.setCertificateVerifier(verifier);
            Reports reports = validator.validateDocument();
            SimpleReport simple = reports.getSimpleReport();
            json.append(",\"signatures\":[");
            String separator = "";
            for (String id : simple.getSignatureIdList()) {
                json.append(separator).append("{\"id\":").append(quote(id));
                json.append(",\"indication\":").append(quote(String.valueOf(simple.getIndication(id))));
                json.append(",\"sub_indication\":").append(quote(simple.getSubIndication(id)));
                json.append(",\"format\":").append(quote(String.valueOf(simple.getSignatureFormat(id))));
                json.append(",\"best_signature_time\":").append(quote(simple.getBestSignatureTime(id)));
                messages(json, simple, id);
                json.append(",\"timestamps\":[");
                String inner = "";
                for (XmlTimestamp timestamp : simple.getSignatureTimestamps(id)) {
                    String tid = timestamp.getId();
                    json.append(inner).append("{\"id\":").append(quote(tid));
                    json.append(",\"indication\":").append(quote(String.valueOf(simple.getIndication(tid))));
                    json.append(",\"sub_indication\":").append(quote(simple.getSubIndication(tid)));
                    json.append(",\"production_time\":").append(quote(simple.getProductionTime(tid)));
                    messages(json, simple, tid);
                    json.append('}');
                    inner = ",";
                }
                json.append("]}");
                separator = ",";
            }
            json.append(']');
        } catch (Exception e) {
            json.append(",\"error\":").append(quote(e.toString()));
        }
        return json.append('}').toString();
    }

    private static void messages(StringBuilder json, SimpleReport simple, String id) {
        json.append(",\"errors\":").append(list(simple.getAdESValidationErrors(id)));
        json.append(",\"warnings\":").append(list(simple.getAdESValidationWarnings(id)));
        json.append(",\"infos\":").append(list(simple.getAdESValidationInfo(id)));
    }

    private static String list(List<Message> messages) {
        StringBuilder json = new StringBuilder("[");
        String separator = "";
        for (Message message : messages) {
            json.append(separator).append(quote(message.getValue()));
            separator = ",";
        }
        return json.append(']').toString();
    }

    private static String quote(Object value) {
        if (value instanceof Date date) {
            return Json.quote(Instant.ofEpochMilli(date.getTime()).toString());
        }
        return Json.quote(value == null ? null : value.toString());
    }
}
