"""Customer import and export: a spreadsheet of customers and their cars in, the same shape out.

One row is one customer with at most one car; a customer with two cars is two rows with the same
phone. Columns (header row, case-insensitive; the Chinese names are aliases):

    name 姓名, phone 手机, phone2 备用手机, birthday 生日, gender 性别 (m/f/男/女), address 地址,
    id_number 身份证号, tags 标签 (separated by , or 、), store_code 门店编码,
    vin 车架号, plate 车牌, brand 品牌, model 车型, model_year 年款, colour 颜色,
    fuel 燃料 (petrol/diesel/hybrid/phev/bev), purchase_date 购车日期, odometer_km 里程,
    warranty_end 质保到期, insurance_expiry 保险到期, insurer 保险公司,
    next_inspection_date 年检日期, driver_licence_expiry 驾照到期,
    sales_consultant 销售顾问, service_advisor 服务顾问, cs_agent 客服专员 (staff usernames)

Rules:

* customers are matched by phone and cars by VIN, inside the importing dealer group only;
* an empty cell keeps what is stored (an import never clears a field); a filled cell sets it;
* an ID number containing ``*`` (the masked form an export writes) is ignored;
* every row is checked before anything is written, with set-based look-ups; a real run writes
  nothing unless every row is valid, and then writes everything in one transaction;
* importing the same file twice changes nothing the second time (rows are only written, and
  timeline and audit rows only added, when a value actually differs).
"""

from .exporting import export_rows, write_csv, write_xlsx
from .parsing import COLUMNS, RowError
from .planning import ImportPlan, ImportReport, RowPlan, plan_import
from .reading import MAX_BLANK_ROWS, MAX_ROWS, read_rows
from .writing import run_import

__all__ = [
    "COLUMNS",
    "MAX_BLANK_ROWS",
    "MAX_ROWS",
    "ImportPlan",
    "ImportReport",
    "RowError",
    "RowPlan",
    "export_rows",
    "plan_import",
    "read_rows",
    "run_import",
    "write_csv",
    "write_xlsx",
]
