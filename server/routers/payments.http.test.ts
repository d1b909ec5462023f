import { describePayments } from "@/testing/conformance/payments";

describePayments("MySQL", { storeEnv: () => ({}), ports: [3250, 3251, 3252, 3253] });
