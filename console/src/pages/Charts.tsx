/** Pictures where people would rather look than read: exposure per debtor, maturity ladder, utilisation per line. */
import { useTranslation } from "react-i18next";
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from "recharts";
import { short, yuan } from "../money";
import type { CreditLine, Receivable } from "../../../shared/api-types";

// Charts need numbers: yuan as a float is fine for bar heights; every figure shown as text stays exact.
const toYuanNumber = (fen: bigint) => Number(fen / 100n) + Number(fen % 100n) / 100;

function Chart({ title, data, testId }: { title: string; data: Array<{ name: string; value: number; label: string }>; testId: string }) {
  const { t } = useTranslation();
  return (
    <figure data-testid={testId}>
      <figcaption>{title}</figcaption>
      {data.length === 0 ? (
        <p className="muted">{t("nothing")}</p>
      ) : (
        <BarChart width={480} height={200} data={data}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="name" />
          <YAxis />
          <Tooltip formatter={(_v, _n, item) => (item.payload as { label: string }).label} />
          <Bar dataKey="value" fill="#2f6db5" isAnimationActive={false} />
        </BarChart>
      )}
    </figure>
  );
}

function sumBy<T>(items: T[], key: (x: T) => string, amount: (x: T) => bigint) {
  const m = new Map<string, bigint>();
  for (const x of items) m.set(key(x), (m.get(key(x)) ?? 0n) + amount(x));
  return m;
}

export function ExposureChart({ receivables }: { receivables: Receivable[] }) {
  const { t, i18n } = useTranslation();
  const open = receivables.filter((r) => r.status === "accepted" || r.status === "financed" || r.status === "issued");
  const m = sumBy(open, (r) => r.debtor, (r) => BigInt(r.outstanding));
  const data = [...m].map(([k, v]) => ({ name: short(k, 8), value: toYuanNumber(v), label: yuan(v, i18n.language) }));
  return <Chart title={t("charts.exposure")} data={data} testId="chart-exposure" />;
}

export function MaturityLadder({ receivables }: { receivables: Receivable[] }) {
  const { t, i18n } = useTranslation();
  const m = sumBy(receivables, (r) => r.dueDate.slice(0, 7), (r) => BigInt(r.outstanding));
  const data = [...m].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => ({ name: k, value: toYuanNumber(v), label: yuan(v, i18n.language) }));
  return <Chart title={t("charts.ladder")} data={data} testId="chart-ladder" />;
}

export function UtilisationChart({ lines }: { lines: CreditLine[] }) {
  const { t, i18n } = useTranslation();
  const data = lines.map((l) => {
    const limit = BigInt(l.limit);
    const used = BigInt(l.utilised);
    return { name: `#${l.id}`, value: limit === 0n ? 0 : Number((used * 10000n) / limit) / 100, label: `${yuan(used, i18n.language)} / ${yuan(limit, i18n.language)}` };
  });
  return <Chart title={`${t("charts.utilisation")} (%)`} data={data} testId="chart-utilisation" />;
}
