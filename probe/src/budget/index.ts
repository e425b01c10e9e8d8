export { BandwidthBudget, BUDGET_FILE_NAME, type BudgetUsage, monthOf, nextMonthStartMs, readBudgetUsage } from './bandwidth-budget.js';
