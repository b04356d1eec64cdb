package in.gov.punjab.sanad.judges;

import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.verapdf.gf.foundry.VeraGreenfieldFoundryProvider;
import org.verapdf.pdfa.Foundries;
import org.verapdf.pdfa.PDFAParser;
import org.verapdf.pdfa.PDFAValidator;
import org.verapdf.pdfa.flavours.PDFAFlavour;
import org.verapdf.pdfa.results.TestAssertion;
import org.verapdf.pdfa.results.ValidationResult;

/**
 * Sanad's independent PDF/A (and PDF/UA) judge: veraPDF validates each PDF named on the
 * command line against each flavour asked for and prints one JSON object per file and
 * flavour on its own line.
 *
 * <p>Usage: {@code VeraPdfJudge --flavour 3b [--flavour ua1] file.pdf...}
 *
 * <p>One JVM validates every file: veraPDF's start-up (profiles, model) happens once.
 */
public final class VeraPdfJudge {
    private VeraPdfJudge() {}

    public static void main(String[] args) throws Exception {
        List<PDFAFlavour> flavours = new ArrayList<>();
        List<File> files = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--flavour")) {
                flavours.add(PDFAFlavour.fromString(args[++i]));
            } else {
                files.add(new File(args[i]));
            }
        }
        if (flavours.isEmpty() || files.isEmpty()) {
            System.err.println("usage: VeraPdfJudge --flavour 3b [--flavour ua1] file.pdf...");
            System.exit(2);
        }
        VeraGreenfieldFoundryProvider.initialise();
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        for (File file : files) {
            for (PDFAFlavour flavour : flavours) {
                out.println(judge(file, flavour));
            }
        }
    }

    private static String judge(File file, PDFAFlavour flavour) {
        StringBuilder json = new StringBuilder("{\"file\":").append(quote(file.getPath()));
        json.append(",\"flavour\":").append(quote(flavour.getId()));
        try (PDFAParser parser = Foundries.defaultInstance().createParser(file, flavour);
                PDFAValidator validator = Foundries.defaultInstance().createValidator(flavour, false)) {
            ValidationResult result = validator.validate(parser);
            json.append(",\"compliant\":").append(result.isCompliant());
            // One entry per failed rule: its clause-test id, what it demands, how often it failed.
            Map<String, String[]> failed = new TreeMap<>();
            for (TestAssertion assertion : result.getTestAssertions()) {
                if (assertion.getStatus() != TestAssertion.Status.FAILED) {
                    continue;
                }
                String rule = assertion.getRuleId().getClause() + "-" + assertion.getRuleId().getTestNumber();
                String[] entry = failed.computeIfAbsent(rule, r -> new String[] {assertion.getMessage(), "0"});
                entry[1] = String.valueOf(Integer.parseInt(entry[1]) + 1);
            }
            json.append(",\"failed\":[");
            String separator = "";
            for (Map.Entry<String, String[]> entry : failed.entrySet()) {
                json.append(separator).append("{\"rule\":").append(quote(entry.getKey()));
                json.append(",\"description\":").append(quote(entry.getValue()[0]));
                json.append(",\"count\":").append(entry.getValue()[1]).append('}');
                separator = ",";
            }
            json.append(']');
        } catch (Exception e) {
            json.append(",\"error\":").append(quote(e.toString()));
        }
        return json.append('}').toString();
    }

    private static String quote(String text) {
        return Json.quote(text);
    }
}
